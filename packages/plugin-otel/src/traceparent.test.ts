import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { contextFromTraceparent, parseTraceparent, traceparentOf } from "./traceparent.ts";

const TID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SID = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  it("reads version 00: trace id, parent id, flags, remote", () => {
    expect(parseTraceparent(`00-${TID}-${SID}-01`)).toEqual({
      traceId: TID,
      spanId: SID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(parseTraceparent(`00-${TID}-${SID}-00`)?.traceFlags).toBe(TraceFlags.NONE);
  });

  it("keeps a valid tracestate and drops a malformed one", () => {
    expect(parseTraceparent(`00-${TID}-${SID}-01`, "a=1,b=2")?.traceState?.get("b")).toBe("2");
    expect(parseTraceparent(`00-${TID}-${SID}-01`, "===")?.traceId).toBe(TID);
  });

  it.each([
    ["empty", ""],
    ["short trace id", `00-${TID.slice(1)}-${SID}-01`],
    ["upper case", `00-${TID.toUpperCase()}-${SID}-01`],
    ["version ff", `ff-${TID}-${SID}-01`],
    ["extra field on version 00", `00-${TID}-${SID}-01-extra`],
    ["zero trace id", `00-${"0".repeat(32)}-${SID}-01`],
    ["zero span id", `00-${TID}-${"0".repeat(16)}-01`],
  ])("rejects %s", (_, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it("accepts a later version with extra fields (forward compatible)", () => {
    expect(parseTraceparent(`01-${TID}-${SID}-01-future`)?.spanId).toBe(SID);
  });
});

describe("traceparentOf / contextFromTraceparent", () => {
  it("round-trips", () => {
    const ctx = contextFromTraceparent(`00-${TID}-${SID}-01`)!;
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TID);
    expect(traceparentOf(ctx)).toBe(`00-${TID}-${SID}-01`);
  });

  it("is undefined without a span", () => {
    expect(traceparentOf(ROOT_CONTEXT)).toBeUndefined();
    expect(contextFromTraceparent("nonsense")).toBeUndefined();
  });
});
