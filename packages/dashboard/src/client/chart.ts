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
        scales: { x: { time: true } },
        axes: [{}, { size: 60, ...(unit && { label: unit }) }],
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
    <figcaption>${title}</figcaption>
    <div ref=${el}></div>
  </figure>`;
}
