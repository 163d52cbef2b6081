// `@tapline/plugin-retry/effect`: the API whose types are effect's. Kept out of the main entry so that its
// declarations never import effect (issue #11).
export {
  type BackoffSchedule,
  constantBackoff,
  exponentialBackoff,
  linearBackoff,
} from "./backoff-schedule.ts";
export { withRetry } from "./with-retry.ts";
