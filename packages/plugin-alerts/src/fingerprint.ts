import type { Labels } from "@tapline/core";

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over the UTF-8 bytes of the sorted `name 0xff value 0xff`
 * pairs, printed as 16 hex digits (the same value Alertmanager shows), so the same alert gets the same fingerprint across processes and restarts.
 */
export function fingerprint(labels: Labels): string {
  const names = Object.keys(labels).sort();
  // The 64-bit state in four 16-bit limbs (h3 high), so the multiply by the FNV prime 2^40 + 0x1b3 stays in
  // exact small integers: no BigInt, no float division, no allocation per byte.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const byte = (b: number) => {
    h0 ^= b;
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  };
  // UTF-8 bytes, as Go hashes strings; ASCII (nearly every label) is fed without encoding.
  const feed = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x80) byte(code);
      else {
        for (const b of Buffer.from(text.slice(i), "utf8")) byte(b);
        return;
      }
    }
  };
  for (const name of names) {
    feed(name);
    byte(0xff);
    feed(labels[name]!);
    byte(0xff);
  }
  const hex = (n: number) => n.toString(16).padStart(4, "0");
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
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
