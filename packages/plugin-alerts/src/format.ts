import type { Labels } from "@tapline/core";
import { formatDuration } from "./duration.ts";

/** Formats a value for a human message according to its unit: ratio 0.623 → "62%", seconds 4.2 → "4.2s". */
export function formatValue(value: number | undefined, unit?: string): string {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  switch (unit) {
    case "ratio":
      return `${round(value * 100)}%`;
    case "percent":
      return `${round(value)}%`;
    case "seconds":
      return value >= 60 ? formatDuration(value * 1000) : `${round(value)}s`;
    case "bytes": {
      const units = ["B", "KiB", "MiB", "GiB", "TiB"];
      let v = value;
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${round(v)} ${units[i]}`;
    }
    case "celsius":
      return `${round(value)}°C`;
    case undefined:
    case "":
      return String(round(value));
    default:
      return `${round(value)} ${unit}`;
  }
}

function round(v: number): number {
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** @internal Fills `{{value}}`, `{{labels.step}}`... in a message template; unknown placeholders stay visible. */
export function renderTemplate(
  template: string,
  vars: Readonly<Record<string, string>>,
  labels: Labels,
): string {
  return template.replace(/\{\{\s*([a-zA-Z_.][a-zA-Z0-9_.]*)\s*\}\}/g, (whole, key: string) => {
    if (key.startsWith("labels.")) return labels[key.slice(7)] ?? "";
    return vars[key] ?? whole;
  });
}
