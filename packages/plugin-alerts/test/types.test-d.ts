import type { AlertLevel } from "@tapline/core";
import type * as v from "valibot";
import { describe, expectTypeOf, it } from "vitest";
import type {
  Aggregation,
  AlertConfigFile,
  AlertManagerOptions,
  AlertmanagerForwarderOptions,
  AlertRuleInput,
  AlertsPluginOptions,
  ConsoleFormat,
  ConsoleHandlerOptions,
  FileHandlerOptions,
  InhibitRuleInput,
  NoDataInput,
  NoDataState,
  RouteInput,
  RuleScope,
  SilenceInput,
  ThresholdOp,
  WebhookHandlerOptions,
} from "../src/index.ts";
import type { AnomalyDirection, LEVELS, RegressionCompare, RuleKind } from "../src/kinds.ts";
import type {
  ConfigFileSchema,
  ConsoleOptionsSchema,
  FileOptionsSchema,
  ForwarderOptionsSchema,
  InhibitSchema,
  ManagerOptionsSchema,
  PluginOptionsSchema,
  RouteSchema,
  RuleSchema,
  SilenceSchema,
  WebhookOptionsSchema,
} from "../src/schemas.ts";

/** Every key of every member of a union. */
type Keys<T> = T extends unknown ? keyof T : never;
type In<S extends v.GenericSchema> = NonNullable<v.InferInput<S>>;

// The exported interfaces carry the JSDoc users read; the valibot schemas check them. Both name the same options.
describe("option schemas match the documented interfaces", () => {
  it("handlers", () => {
    expectTypeOf<keyof In<typeof WebhookOptionsSchema>>().toEqualTypeOf<keyof WebhookHandlerOptions>();
    expectTypeOf<keyof In<typeof ForwarderOptionsSchema>>().toEqualTypeOf<
      keyof AlertmanagerForwarderOptions
    >();
    expectTypeOf<keyof In<typeof ConsoleOptionsSchema>>().toEqualTypeOf<keyof ConsoleHandlerOptions>();
    expectTypeOf<keyof In<typeof FileOptionsSchema>>().toEqualTypeOf<keyof FileHandlerOptions>();
  });
  it("manager, plugin, rule files", () => {
    expectTypeOf<keyof In<typeof ManagerOptionsSchema>>().toEqualTypeOf<keyof AlertManagerOptions>();
    expectTypeOf<keyof In<typeof PluginOptionsSchema>>().toEqualTypeOf<keyof AlertsPluginOptions>();
    expectTypeOf<keyof In<typeof ConfigFileSchema>>().toEqualTypeOf<keyof AlertConfigFile>();
    expectTypeOf<keyof In<typeof RouteSchema>>().toEqualTypeOf<keyof RouteInput>();
    expectTypeOf<keyof In<typeof InhibitSchema>[number]>().toEqualTypeOf<keyof InhibitRuleInput>();
    expectTypeOf<keyof In<typeof SilenceSchema>>().toEqualTypeOf<keyof SilenceInput>();
  });
  it("rules of every kind", () => {
    expectTypeOf<Keys<In<typeof RuleSchema>>>().toEqualTypeOf<keyof AlertRuleInput>();
    expectTypeOf<
      keyof NonNullable<Extract<In<typeof RuleSchema>, { noData?: unknown }>["noData"]>
    >().toEqualTypeOf<keyof NoDataInput>();
  });
  it("closed sets: each is one list, and the schemas accept exactly the public types", () => {
    type Rule = Extract<In<typeof RuleSchema>, { kind?: "threshold" }>;
    type Anomaly = Extract<In<typeof RuleSchema>, { kind: "anomaly" }>;
    type Regression = Extract<In<typeof RuleSchema>, { kind: "regression" }>;
    expectTypeOf<In<typeof RuleSchema>["kind"] & string>().toEqualTypeOf<RuleKind>();
    expectTypeOf<NonNullable<Anomaly["direction"]>>().toEqualTypeOf<AnomalyDirection>();
    expectTypeOf<NonNullable<Regression["compare"]>>().toEqualTypeOf<RegressionCompare>();
    type NoData = NonNullable<Rule["noData"]>;
    expectTypeOf<NonNullable<Rule["op"]>>().toEqualTypeOf<ThresholdOp>();
    expectTypeOf<NonNullable<Rule["aggregate"]>>().toEqualTypeOf<Aggregation>();
    expectTypeOf<NonNullable<Rule["scope"]>>().toEqualTypeOf<RuleScope>();
    expectTypeOf<NonNullable<NoData["state"]>>().toEqualTypeOf<NoDataState>();
    expectTypeOf<NonNullable<NoData["level"]>>().toEqualTypeOf<AlertLevel>();
    expectTypeOf<NonNullable<In<typeof ConsoleOptionsSchema>["format"]>>().toEqualTypeOf<ConsoleFormat>();
    expectTypeOf<(typeof LEVELS)[number]>().toEqualTypeOf<AlertLevel>();
  });
});
