import type { Labels } from "@tapline/core";

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over the UTF-8 bytes of the sorted `name 0xff value 0xff`
 * pairs, printed as 16 hex digits (the same value Alertmanager shows), so the same alert gets the same fingerprint across processes and restarts.
 */
export function fingerprint(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const feedByte = (byte: number) => {
    lo = (lo ^ byte) >>> 0;
    // 64-bit multiply by the FNV prime 0x100000001b3, on two 32-bit halves.
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    hi = (hi * 0x1b3 + lo * 0x100 + carry) >>> 0;
    lo = loMul >>> 0;
  };
  // UTF-8 bytes, as Go hashes strings; ASCII (nearly every label) is fed without encoding.
  const feed = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x80) feedByte(code);
      else {
        for (const byte of Buffer.from(text.slice(i), "utf8")) feedByte(byte);
        return;
      }
    }
  };
  for (const name of names) {
    feed(name);
    feedByte(0xff);
    feed(labels[name]!);
    feedByte(0xff);
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

/**
 * @internal The label set an alert carries everywhere it leaves the manager (Alertmanager, webhook bodies,
 * history, handlers): its labels with `severity` set to its level, and `run_id` for run-scoped alerts. Its
 * {@link fingerprint} is the alert's one fingerprint, so it changes with the level, as in Alertmanager, where
 * an escalated alert is a new label set.
 */
export function alertLabelSet(labels: Labels, level: string, runId: string | undefined): Labels {
  const out: Record<string, string> = { ...labels, severity: level };
  if (runId !== undefined && out.run_id === undefined) out.run_id = runId;
  return out;
}

/** @internal A cheap identity key of a label set (sorted, NUL-joined), for maps. */
export function labelKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let key = "";
  for (const name of names) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}
