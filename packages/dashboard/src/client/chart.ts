import htm from "htm";
import { h } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const html = htm.bind(h);
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

export interface ChartProps {
  readonly title: string;
  /** uPlot's columns: x (epoch s) first, then one array per series. */
  readonly data: (number | null)[][];
  readonly labels: readonly string[];
  readonly bars?: boolean;
  readonly unit?: string;
}

/** A uPlot chart; `data-points` holds the number of x values (for tests and for the curious). */
export function Chart({ title, data, labels, bars, unit }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${labels.join("|")}|${bars ? 1 : 0}`;
  const shapeRef = useRef("");
  const latest = useRef(data);
  latest.current = data;
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    if (plot.current && shapeRef.current === shape) {
      plot.current.setData(data as uPlot.AlignedData);
      return;
    }
    plot.current?.destroy();
    shapeRef.current = shape;
    const width = Math.max(280, node.clientWidth || 480);
    plot.current = new uPlot(
      {
        width,
        height: 180,
        legend: { show: true },
        // One point (one minute of data) would otherwise stretch the time axis over years.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => {
              const xs = latest.current[0] ?? [];
              const only = xs.length === 1 ? xs[0] : undefined;
              return typeof only === "number" ? [only - 300, only + 60] : [min, max];
            },
          },
        },
        axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => compact(t, unit)) }],
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            ...(bars && {
              fill: `${COLORS[i % COLORS.length]}55`,
              paths: uPlot.paths.bars?.({ size: [0.8, 40] }),
            }),
            points: { show: (data[0]?.length ?? 0) < 40 },
          })),
        ],
      },
      data as uPlot.AlignedData,
      node,
    );
  }, [data, shape]);
  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    [],
  );
  return html`<figure class="chart" data-points=${data[0]?.length ?? 0} data-title=${title}>
    <figcaption>${title}${unit ? html` <span class="muted">(${unit})</span>` : ""}</figcaption>
    <div ref=${el}></div>
  </figure>`;
}

/** Tick labels: bytes in KiB/MiB/GiB, other large numbers with k/M/G, small ones as they are. */
export function compact(v: number, unit: string | undefined): string {
  const a = Math.abs(v);
  if (unit === "bytes") {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let x = a;
    while (x >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${v < 0 ? "-" : ""}${x >= 100 || i === 0 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
  }
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return String(Number(v.toPrecision(4)));
}
