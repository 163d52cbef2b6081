/**
 * Secret redaction, one function for every Tapline package: error messages, log fields, alert texts and run
 * records pass through {@link redactSecrets} (text) or {@link redactFields} (objects) before they are printed
 * or persisted, so an API key in a step's error message never reaches `runs/*.jsonl`, a metric or an alert.
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/**
 * Field names whose values are secrets, matched case-insensitively on the last path segment
 * (`headers.Authorization`, `input.apiKey`, `api_key`, `X-Api-Key`).
 */
const SECRET_KEY =
  /^(authorization|proxy[-_]?authorization|cookie|set[-_]?cookie|x[-_]?api[-_]?key|api[-_]?key|apikey|api[-_]?token|auth[-_]?token|token|access[-_]?token|refresh[-_]?token|id[-_]?token|bearer|password|passwd|pwd|secret|client[-_]?secret|private[-_]?key|session[-_]?token|x[-_]?auth[-_]?token|signature)$/i;

/** True when a field of this name holds a secret (`Authorization`, `apiKey`, `api_key`, `password`...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Built-in patterns: credentials in headers, URLs and the common API-key shapes. */
const BUILTIN: readonly [RegExp, string | ((...m: string[]) => string)][] = [
  // Authorization: Bearer xyz / Basic abc= / Token x (in a header line or a message)
  [
    /\b(bearer|basic|token|digest)(\s+)[A-Za-z0-9\-._~+/=:%]{3,}/gi,
    (_m, scheme, sp) => `${scheme}${sp}${REDACTED}`,
  ],
  // "Authorization: anything" up to the end of the value
  [
    /\b((?:proxy-)?authorization|x-api-key|api-key|cookie)(\s*[:=]\s*)("?)[^\s",;]+/gi,
    (_m, k, sep, q) => `${k}${sep}${q}${REDACTED}`,
  ],
  // user-info in URLs: scheme://user:pass@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, (_m, scheme) => `${scheme}${REDACTED}@`],
  // secret query parameters: ?token=…&api_key=…&sig=…
  [
    /([?&;](?:[a-z0-9_-]*(?:token|key|secret|signature|sig|password|passwd|pwd|auth|credential|session)[a-z0-9_-]*))=([^&#\s"']+)/gi,
    (_m, k) => `${k}=${REDACTED}`,
  ],
  // key=value / key: value pairs in free text with a secret-named key
  [
    /\b((?:api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|client[-_]?secret|secret|password|passwd|token)["']?\s*[:=]\s*["']?)([^\s"',;&]{3,})/gi,
    (_m, k) => `${k}${REDACTED}`,
  ],
  // Common API-key shapes: OpenAI/Anthropic sk-…, Stripe sk_live_/rk_…, GitHub ghp_…, Slack xox…, AWS AKIA…, Google AIza…, JWTs
  [/\b(?:sk|rk|pk)[-_](?:live|test|proj|ant|or)?[-_]?[A-Za-z0-9_-]{12,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
];

/** Options of {@link createRedactor}. */
export interface RedactOptions {
  /** More patterns to redact (a global flag is added when missing); each match becomes `[redacted]`. */
  readonly patterns?: readonly RegExp[];
}

/** A configured redactor (built-in patterns plus the app's own). */
export interface Redactor {
  /** Redacts secrets in a text (error message, log line, URL). */
  text(text: string): string;
  /** Deep copy of a value with secret-named fields replaced and secrets in strings redacted. */
  fields<T>(value: T): T;
}

/**
 * Redacts secrets in a text with the built-in patterns: bearer/basic credentials, `Authorization:` values,
 * URL user-info, token/key/signature query parameters, `apiKey=...` pairs and common API-key shapes
 * (`sk-...`, `ghp_...`, `xoxb-...`, `AKIA...`, JWTs).
 *
 * @example
 * redactSecrets("GET https://u:p@api.example.com/x?token=abc failed: Bearer xyz123");
 * // "GET https://[redacted]@api.example.com/x?token=[redacted] failed: Bearer [redacted]"
 */
export function redactSecrets(text: string): string {
  return DEFAULT.text(text);
}

/** Deep copy of `value` with secret-named fields (case-insensitive, at any depth) and secrets in strings redacted. */
export function redactFields<T>(value: T): T {
  return DEFAULT.fields(value);
}

/** Builds a redactor with extra patterns (`createTapline({ redact: { patterns } })` uses one). */
export function createRedactor(options: RedactOptions = {}): Redactor {
  const extra = (options.patterns ?? []).map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
  const text = (input: string): string => {
    if (input.length === 0) return input;
    let out = input;
    for (const [pattern, replacement] of BUILTIN) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, replacement as string);
    }
    for (const pattern of extra) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, REDACTED);
    }
    return out;
  };
  const fields = <T>(value: T): T => copy(value, text, 0, new WeakSet()) as T;
  return { text, fields };
}

function copy(value: unknown, text: (s: string) => string, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return text(value);
  if (!value || typeof value !== "object") return value;
  if (value instanceof Error) return text(value.message || value.name);
  if (seen.has(value) || depth > 16) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => copy(v, text, depth + 1, seen));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) ? REDACTED : copy(v, text, depth + 1, seen);
  }
  return out;
}

const DEFAULT = createRedactor();
