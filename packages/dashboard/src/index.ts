export type { DashboardOptions } from "./dashboard-options.ts";
export { DashboardStartError, DashboardTokenRequiredError } from "./errors.ts";
export { renderReport } from "./report.ts";
export type { ReportOptions } from "./report-options.ts";
export { type Dashboard, serveDashboard } from "./server.ts";
