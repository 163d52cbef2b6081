export type { DashboardOptions } from "./dashboard-options.ts";
export { DashboardStartError, DashboardTokenRequiredError } from "./errors.ts";
export { type Dashboard, serveDashboard } from "./server.ts";
