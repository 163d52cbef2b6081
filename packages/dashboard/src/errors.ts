import { createError } from "@tapline/core";

/** A non-loopback host was asked for without a token: anyone on that network could read the app's data. */
export const DashboardTokenRequiredError = createError(
  "TAPLINE_ERR_DASHBOARD_TOKEN",
  "DashboardTokenRequiredError",
  (p: { host: string }) =>
    `serveDashboard(): host "${p.host}" is reachable from other machines, so a token is required (pass { token } of at least 16 characters, or listen on 127.0.0.1)`,
  "pass a token (tapline dashboard --token, or TAPLINE_DASHBOARD_TOKEN), or keep the default host 127.0.0.1",
);

/** The server could not listen (port in use, host not on this machine) or the data folder is not a folder. */
export const DashboardStartError = createError(
  "TAPLINE_ERR_DASHBOARD_START",
  "DashboardStartError",
  (p: { what: string; why: string; cause?: unknown }) => `serveDashboard(): ${p.what}: ${p.why}`,
  "pick another port (0 picks a free one), or check the data folder path",
);

declare module "@tapline/core" {
  interface TaplineErrorMap {
    TAPLINE_ERR_DASHBOARD_TOKEN: InstanceType<typeof DashboardTokenRequiredError>;
    TAPLINE_ERR_DASHBOARD_START: InstanceType<typeof DashboardStartError>;
  }
}
