import * as v from "valibot";
import type { AudioExpect } from "./audio.ts";
import { UnknownProfileError, ValidateOptionsError } from "./errors.ts";
import { ProfileRefSchema, ProfileSchema, parseArgs } from "./options.ts";
import type { SubtitleExpect } from "./subtitles.ts";
import type { TextExpect } from "./text.ts";
import { KINDS } from "./types.ts";
import type { VideoExpect } from "./video.ts";

/** Expectations for every file of a job, by kind. */
export interface Profile {
  readonly name: string;
  readonly audio?: AudioExpect;
  readonly video?: VideoExpect;
  readonly text?: TextExpect;
  readonly subtitles?: SubtitleExpect;
}

/** Names of the built-in profiles. */
export type ProfileName =
  | "default"
  | "youtube-shorts"
  | "instagram-reels"
  | "tiktok"
  | "podcast"
  | "ebu-r128";

/** Short-form platforms normalise to about -14 LUFS and cut dead air: what they expect of a voiceover. */
const streamingAudio: AudioExpect = {
  loudness: { target: -14, tolerance: 1 },
  truePeakMax: -1,
  leadingSilenceMax: 0.5,
  trailingSilenceMax: 1,
  gapMax: 2,
};

/**
 * Built-in profiles. `default` judges what any file must be: readable, decodable, not truncated, not silent,
 * not clipped, a sane duration and bitrate. Loudness, true peak and dead air are platform expectations and
 * live in the platform profiles, from the platforms' published limits (research/validate.md §4): the
 * short-form platforms at -14 LUFS, `podcast` at -16 LUFS (Apple Podcasts), `ebu-r128` at -23 LUFS
 * (broadcast, EBU R 128). Hard limits are errors; recommendations are downgraded to warnings through `severity`.
 */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  default: {
    name: "default",
    audio: { minDuration: 0.1, minBitrate: 8_000 },
    // Fast start is a streaming recommendation, not a defect of the file.
    video: { minDuration: 0.1, minBitrate: 20_000, severity: { "video.faststart": "warning" } },
    text: {},
    subtitles: {},
  },
  "youtube-shorts": {
    name: "youtube-shorts",
    audio: streamingAudio,
    video: {
      width: 1080,
      height: 1920,
      maxAspectRatio: 1, // Shorts: square or taller
      codecs: ["h264", "hevc", "vp9", "av1"],
      profiles: ["High"],
      pixelFormats: ["yuv420p"],
      minFps: 24,
      maxFps: 60,
      minBitrate: 8_000_000, // 1080p SDR 24–30 fps recommendation
      minDuration: 1,
      maxDuration: 180, // uploads from 2024-10-15
      audioCodecs: ["aac"],
      audioSampleRates: [48_000, 96_000],
      audioChannels: [2, 6],
      severity: {
        "video.width": "warning",
        "video.height": "warning",
        "video.profile": "warning",
        "video.pix_fmt": "warning",
        "video.fps": "warning",
        "video.bitrate_low": "warning",
        "video.faststart": "warning",
        "video.audio_codec": "warning",
        "video.audio_sample_rate": "warning",
        "video.audio_channels": "warning",
      },
    },
    text: { targetDuration: 180 },
    subtitles: {},
  },
  "instagram-reels": {
    name: "instagram-reels",
    audio: streamingAudio,
    video: {
      maxWidth: 1920,
      aspect: "9:16",
      codecs: ["h264", "hevc"],
      pixelFormats: ["yuv420p"],
      minFps: 23,
      maxFps: 60,
      maxBitrate: 25_000_000,
      minDuration: 3,
      maxDuration: 900,
      maxSize: 1_000_000_000, // the English help page says 300 MB: sources conflict
      audioCodecs: ["aac"],
      audioSampleRates: [22_050, 24_000, 32_000, 44_100, 48_000],
      audioChannels: [1, 2],
      severity: { "video.aspect": "warning" },
    },
    text: { targetDuration: 900 },
    subtitles: {},
  },
  tiktok: {
    name: "tiktok",
    audio: streamingAudio,
    video: {
      width: 1080,
      height: 1920,
      aspect: "9:16",
      codecs: ["h264", "hevc"],
      minFps: 23,
      maxFps: 60,
      maxDuration: 600,
      maxSize: 287_600_000, // iOS app limit; Android is 72 MB, ads 500 MB
      audioCodecs: ["aac"],
      severity: {
        "video.width": "warning",
        "video.height": "warning",
        "video.aspect": "warning",
        "video.fps": "warning",
        "video.size": "warning",
        "video.faststart": "warning",
        "video.audio_codec": "warning",
      },
    },
    text: { targetDuration: 600 },
    subtitles: {},
  },
  podcast: {
    name: "podcast",
    // Apple Podcasts: -16 LKFS ± 1 dB, true peak at most -1 dBFS; MP3 or AAC.
    audio: {
      minDuration: 0.1,
      loudness: { target: -16, tolerance: 1 },
      truePeakMax: -1,
      // Dead air, looser than short-form: a long-form show may breathe, but not stall.
      leadingSilenceMax: 2,
      trailingSilenceMax: 5,
      gapMax: 5,
    },
    video: { severity: { "video.faststart": "warning" } },
    text: {},
    subtitles: {},
  },
  "ebu-r128": {
    name: "ebu-r128",
    // EBU R 128: programme loudness -23 LUFS ± 0.5 LU (± 1 LU for live), maximum true peak -1 dBTP.
    audio: { minDuration: 0.1, loudness: { target: -23, tolerance: 0.5 }, truePeakMax: -1 },
    video: {},
    text: {},
    subtitles: {},
  },
};

const ProfileRefOrNone = v.optional(ProfileRefSchema);

function mergeKind<T extends { severity?: object }>(base: T | undefined, over: T | undefined): T | undefined {
  if (!base) return over;
  if (!over) return base;
  return { ...base, ...over, severity: { ...base.severity, ...over.severity } };
}

/**
 * Makes a user-defined profile, optionally extending a built-in (or another) profile: each kind's
 * expectations are merged key by key, severity overrides too.
 *
 * Both arguments are checked strictly: an unknown or mistyped key throws `ValidateOptionsError` naming its
 * path (`profile.audio.loudness.tolerence`) and the closest known key.
 *
 * @example
 * const mine = defineProfile("youtube-shorts", { name: "mine", audio: { loudness: { target: -16, tolerance: 1 } } });
 * await validateJob({ audio: "vo.mp3", video: "out.mp4" }, mine);
 */
export function defineProfile(
  base: ProfileName | Profile | undefined,
  profile: Partial<Profile> & { name: string },
): Profile {
  parseArgs("defineProfile()", [
    ["base", ProfileRefOrNone, base],
    ["profile", ProfileSchema, profile],
  ]);
  const from = base === undefined ? undefined : resolveProfile(base);
  const out: Record<string, unknown> = { name: profile.name };
  for (const kind of KINDS) {
    const merged = mergeKind<any>(from?.[kind], profile[kind]);
    if (merged) out[kind] = merged;
  }
  return out as unknown as Profile;
}

/** Resolves a profile name (built in or from `extra`) or returns a profile object as is. */
export function resolveProfile(
  profile: ProfileName | string | Profile | undefined,
  extra?: Readonly<Record<string, Profile>>,
): Profile {
  if (profile === undefined) return PROFILES.default;
  if (typeof profile === "object" && profile !== null) return profile;
  if (typeof profile === "string") {
    const found = extra?.[profile] ?? (PROFILES as Record<string, Profile>)[profile];
    if (found) return found;
    throw new UnknownProfileError({
      profile,
      known: [...Object.keys(PROFILES), ...Object.keys(extra ?? {})],
    });
  }
  throw new ValidateOptionsError({
    subject: "resolveProfile()",
    issues: [
      {
        path: "(options)",
        message: `expected a profile name or object, got ${typeof profile}`,
        value: profile,
      },
    ],
  });
}
