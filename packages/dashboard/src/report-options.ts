/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** The app's data folder. */
  dir: string;
  /** Epoch ms: records at or after. Default: 24 hours before `until`. */
  since?: number;
  /** Epoch ms: records before. Default: now. */
  until?: number;
  /** `html` (default): one self-contained file, no script; `md`: Markdown. */
  format?: "html" | "md";
}
