import { AUDIO_CHECKS } from "./audio-checks.ts";
import type { Check } from "./define-check.ts";
import { SUBTITLE_CHECKS } from "./subtitle-checks.ts";
import { TEXT_CHECKS } from "./text-checks.ts";
import { VIDEO_CHECKS } from "./video-checks.ts";

/** Every built-in check, made with `defineCheck()` like any other; each validator starts from these. */
export const BUILT_IN_CHECKS: readonly Check[] = [
  ...AUDIO_CHECKS,
  ...VIDEO_CHECKS,
  ...TEXT_CHECKS,
  ...SUBTITLE_CHECKS,
];
