export { DashboardStartError, DashboardTokenRequiredError } from "./errors.ts";
export type { DashboardOptions } from "./options.ts";
export { type Dashboard, serveDashboard } from "./server.ts";
