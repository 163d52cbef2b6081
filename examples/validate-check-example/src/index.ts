/**
 * A third-party check for `@tapline/plugin-validate`, written against its public API only: the video's
 * aspect ratio. It reads the dimensions the validator's one ffprobe pass already measured, so it adds no
 * process; its findings have the id `video.aspect_ratio`.
 */
import { type CheckFactory, defineCheck } from "@tapline/plugin-validate";
import * as v from "valibot";

/** Options of {@link aspectRatio}. */
export interface AspectRatioOptions {
  /** The expected ratio: `"9:16"`, `"16:9"`, `"1:1"`, or width/height as a number. */
  readonly ratio: string | number;
  /** Relative tolerance (default 0.01: within 1 %). */
  readonly tolerance: number;
}

const Ratio = v.union([
  v.pipe(v.string(), v.regex(/^\d+(?:\.\d+)?:\d+(?:\.\d+)?$/, 'a ratio like "9:16"')),
  v.pipe(v.number(), v.gtValue(0)),
]);

const Options: v.GenericSchema<AspectRatioOptions> = v.strictObject({
  ratio: Ratio,
  tolerance: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});

const ratioValue = (ratio: string | number): number => {
  if (typeof ratio === "number") return ratio;
  const [w, h] = ratio.split(":").map(Number);
  return w! / h!;
};

/**
 * Checks that a video's width/height matches `ratio` within `tolerance`. An error finding
 * `video.aspect_ratio` names the file's dimensions and the expected ratio.
 *
 * @example
 * await validateVideo("out.mp4", {}, { checks: [aspectRatio({ ratio: "9:16" })] });
 */
export const aspectRatio: CheckFactory<"video", AspectRatioOptions, "tolerance"> = defineCheck({
  kind: "video",
  name: "aspect_ratio",
  options: Options,
  defaults: { tolerance: 0.01 },
  run({ video, report }, { ratio, tolerance }) {
    const { width, height } = video;
    if (!width || !height) return;
    const want = ratioValue(ratio);
    const got = width / height;
    if (Math.abs(got - want) > want * tolerance)
      report.error(`${width}x${height} is not ${ratio} (${got.toFixed(4)} vs ${want.toFixed(4)})`, {
        value: Math.round(got * 1e4) / 1e4,
        limit: ratio,
      });
  },
});
