/**
 * `@tapline/plugin-validate/text`: the text tools the validators use, for scripts and checks of your own:
 * the strict SRT/WebVTT reader, word error rate, the tokenizer, and the default forbidden patterns (to
 * extend: `forbidden: [...DEFAULT_FORBIDDEN, { name, pattern }]`).
 */
export {
  type Cue,
  type ParsedSubtitles,
  parseSubtitles,
  type SubtitleSyntaxError,
} from "./subtitle-reader.ts";
export { DEFAULT_FORBIDDEN, type ForbiddenPattern } from "./text.ts";
export { wordErrorRate, words } from "./wer.ts";
