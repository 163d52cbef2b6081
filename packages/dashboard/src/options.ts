import { parseOptions } from "@tapline/core";
import * as v from "valibot";
import type { DashboardOptions } from "./dashboard-options.ts";
import type { ReportOptions } from "./report-options.ts";

/** @internal Options after validation, defaults applied. */
export interface NormalizedDashboardOptions {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly files: readonly string[];
  readonly keepRuns: number;
  readonly pollIntervalMs: number;
}

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const nonEmpty = v.pipe(v.string(), v.minLength(1, "must be a non-empty path"));

/** @internal */
export const DashboardOptionsSchema = v.strictObject({
  dir: nonEmpty,
  host: v.optional(v.pipe(v.string(), v.minLength(1, "must be a host name or address"))),
  port: v.optional(int(0, 65_535)),
  token: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
  files: v.optional(v.array(nonEmpty)),
  keepRuns: v.optional(int(1, 1_000_000)),
  pollIntervalMs: v.optional(int(20, 60_000)),
}) satisfies v.GenericSchema<DashboardOptions>;

/** @internal True for the hosts that need no token. */
export const isLoopback = (host: string): boolean =>
  host === "127.0.0.1" || host === "::1" || host === "localhost" || host === "[::1]";

/** @internal Validates and normalises once, when the dashboard is created. */
export function normalizeOptions(input: unknown): NormalizedDashboardOptions {
  const o = parseOptions(DashboardOptionsSchema, input, "serveDashboard()");
  return {
    dir: o.dir,
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 0,
    token: o.token,
    files: o.files ?? [],
    keepRuns: o.keepRuns ?? 1000,
    pollIntervalMs: o.pollIntervalMs ?? 500,
  };
}

/** @internal */
export const ReportSchema = v.strictObject({
  dir: v.pipe(v.string(), v.minLength(1, "must be a non-empty path")),
  since: v.optional(v.pipe(v.number(), v.finite())),
  until: v.optional(v.pipe(v.number(), v.finite())),
  format: v.optional(v.picklist(["html", "md"])),
}) satisfies v.GenericSchema<ReportOptions>;
