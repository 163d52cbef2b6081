import htm from "htm";
import { h } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import type {
  AlertsView,
  AlertView,
  DurableView,
  RunDetail,
  RunSummary,
  SeriesView,
  StepStats,
  UnitView,
} from "../api-types.ts";
import { load, money, ms, pct, when, withToken } from "./api.ts";
import { Chart, compact } from "./chart.ts";
import type { Live } from "./main.ts";

const html = htm.bind(h);
type P = { live: Live };

const Status = ({ s }: { s: string }) => html`<span class=${`pill st-${s}`}>${s}</span>`;

function AlertTable({ alerts, empty }: { alerts: readonly AlertView[]; empty: string }) {
  if (alerts.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table>
    <thead><tr><th>time</th><th>level</th><th>state</th><th>rule</th><th>message</th><th>labels</th></tr></thead>
    <tbody>
      ${alerts.map(
        (a) => html`<tr>
          <td>${when(a.time)}</td><td><span class=${`pill lv-${a.level}`}>${a.level}</span></td>
          <td>${a.state}${a.muted ? ` (${a.muted})` : ""}</td><td>${a.rule}</td><td>${a.message}</td>
          <td class="mono">${Object.entries(a.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Copies a command; where the clipboard is refused (no permission), the text stays selected to copy by hand. */
function Copy({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  const copy = (e: Event) => {
    const code = (e.target as HTMLElement).previousElementSibling;
    if (code) getSelection()?.selectAllChildren(code);
    navigator.clipboard?.writeText(text).then(
      () => setDone(true),
      () => {},
    );
  };
  return html`<button type="button" onClick=${copy}>${done ? "copied" : "copy"}</button>`;
}

const waited = (ms: number): string =>
  ms >= 86_400_000
    ? `${(ms / 86_400_000).toFixed(1)} d`
    : ms >= 3_600_000
      ? `${(ms / 3_600_000).toFixed(1)} h`
      : ms >= 60_000
        ? `${Math.floor(ms / 60_000)} min`
        : `${Math.max(0, Math.floor(ms / 1000))} s`;

/** The durable store's runs that need someone: suspended ones (with the approve command) and interrupted ones. */
function DurableRuns({ d, now }: { d: DurableView; now: number }) {
  return html`<section class="waiting" data-testid="durable">
    <h2>Waiting for approval</h2>
    ${d.error ? html`<p class="err" data-testid="durable-error">${d.error}</p>` : ""}
    ${
      d.waiting.length === 0
        ? html`<p class="muted">no suspended run in ${d.store}</p>`
        : html`<table data-testid="waiting"><thead><tr><th>run</th><th>pipeline</th><th>unit</th><th>reason</th><th>waiting</th><th>to approve</th></tr></thead>
          <tbody>${d.waiting.map(
            (w) => html`<tr data-run=${w.runId}>
              <td class="mono"><a href=${`#/runs/${encodeURIComponent(w.runId)}`}>${w.runId}</a></td><td>${w.pipeline}</td>
              <td class="mono">${w.unit ?? ""}</td><td>${w.reason}</td>
              <td title=${`since ${when(w.since)}`}>${waited(now - w.since)}</td>
              <td><code data-testid="approve">${w.approve}</code><${Copy} text=${w.approve} /></td>
            </tr>`,
          )}</tbody></table>
          <p class="muted"><code>${"<module>"}</code> is the pipeline module that ran it, with the --config it ran with, as for tapline run.</p>`
    }
    ${
      d.interrupted.length === 0
        ? ""
        : html`<h2>Interrupted</h2>
          <p class="muted">saved as running, but no process holds them any more (it died): resume them.</p>
          <table data-testid="interrupted"><thead><tr><th>run</th><th>pipeline</th><th>last saved</th><th>to resume</th></tr></thead>
          <tbody>${d.interrupted.map(
            (r) => html`<tr data-run=${r.runId}>
              <td class="mono"><a href=${`#/runs/${encodeURIComponent(r.runId)}`}>${r.runId}</a></td><td>${r.pipeline}</td>
              <td title=${when(r.since)}>${waited(now - r.since)} ago</td>
              <td><code>${r.resume}</code><${Copy} text=${r.resume} /></td>
            </tr>`,
          )}</tbody></table>`
    }
  </section>`;
}

export function OverviewPage({ live }: P) {
  const o = live.overview;
  if (!o) return html`<p class="muted">loading…</p>`;
  const done = o.totals.successes + o.totals.failures;
  const perMinute = [
    o.perMinute.map((m) => m[0]),
    o.perMinute.map((m) => m[1]),
    o.perMinute.map((m) => m[2]),
  ];
  const breakers = Object.entries(o.breakers).flatMap(([name, keys]) =>
    Object.entries(keys).map(([key, state]) => ({ name: key ? `${name}[${key}]` : name, state })),
  );
  return html`<section class="cards">
      <div class="card"><div class="big" data-testid="total-runs">${o.totals.runs}</div>runs</div>
      <div class="card"><div class="big" data-testid="success-rate">${done ? pct(o.totals.successes / done) : "–"}</div>success rate</div>
      <div class="card"><div class="big">${o.totals.failures}</div>failed</div>
      <div class="card"><div class="big">${o.totals.running}</div>running</div>
      ${o.durable || o.totals.suspended ? html`<div class="card"><div class="big" data-testid="suspended-runs">${o.totals.suspended}</div>suspended</div>` : ""}
      <div class="card"><div class="big">${o.firing.length}</div>alerts firing</div>
      <div class="card" data-testid="spend"><div class="big">${money(o.spend.last24h) || "–"}</div>spent (24 h)
        <div class="muted">last hour ${money(o.spend.lastHour) || "–"} · all ${money(o.spend.total) || "–"}</div>
        ${Object.entries(o.spend.windows ?? {}).map(
          ([window, w]) =>
            html`<div data-testid="spend-window">${window} budget (${w.period}): ${Object.entries(w.limit)
              .map(([unit, limit]) => `${Math.round((w.spent[unit] ?? 0) * 1e4) / 1e4} of ${limit} ${unit}`)
              .join(", ")}</div>`,
        )}
      </div>
    </section>
    ${o.durable ? html`<${DurableRuns} d=${o.durable} now=${o.now} />` : ""}
    <section>
      <h2>Status</h2>
      ${
        o.status
          ? html`<p class="muted">as of ${when(o.status.time)}: ${o.status.message}</p>
            <div class="cards">${o.status.parts.map(
              (p) => html`<div class=${`card part level-${p.level}`} data-testid="status-part">
                <strong>${p.component}</strong> <span class=${`pill level-${p.level}`}>${p.level}</span><div>${p.message}</div>
              </div>`,
            )}</div>`
          : html`<p class="muted">no status.json yet (the app writes it with @tapline/plugin-metrics)</p>`
      }
    </section>
    <section class="grid2">
      <div><${Chart} title="Runs per minute (last hour)" data=${perMinute} labels=${["success", "failed"]} bars=${true} /></div>
      <div>
        <h2>p95 per step</h2>
        <table>
          <thead><tr><th>pipeline</th><th>step</th><th>runs</th><th>failures</th><th>p95</th></tr></thead>
          <tbody>${o.steps.map(
            (s) =>
              html`<tr><td>${s.pipeline}</td><td class="mono">${s.step}</td><td>${s.count}</td><td>${s.failures}</td><td>${ms(s.p95Ms)}</td></tr>`,
          )}</tbody>
        </table>
      </div>
    </section>
    <section class="grid2">
      <div><h2>Firing alerts</h2><${AlertTable} alerts=${o.firing} empty="no alert firing" /></div>
      <div>
        <h2>Circuit breakers</h2>
        ${
          breakers.length
            ? html`<table><tbody>${breakers.map((b) => html`<tr><td class="mono">${b.name}</td><td><span class=${`pill br-${b.state}`}>${b.state}</span></td></tr>`)}</tbody></table>`
            : html`<p class="muted">no breaker reported</p>`
        }
      </div>
    </section>`;
}

export function RunsPage({ live, query }: P & { query: string }) {
  const initial = new URLSearchParams(query);
  const [status, setStatus] = useState(initial.get("status") ?? "");
  const [pipeline, setPipeline] = useState(initial.get("pipeline") ?? "");
  const [q, setQ] = useState(initial.get("q") ?? "");
  const [fetched, setFetched] = useState<RunSummary[]>([]);
  const [since, setSince] = useState(0);
  const params = () => {
    const p = new URLSearchParams();
    if (status) p.set("status", status);
    if (pipeline) p.set("pipeline", pipeline);
    if (q) p.set("q", q);
    return p;
  };
  useEffect(() => {
    const p = params();
    history.replaceState(null, "", `#/runs${p.size ? `?${p}` : ""}`);
    load<{ runs: RunSummary[] }>(`api/runs?${p}`, (r) => {
      setFetched(r.runs);
      setSince(live.pushed.length);
    });
  }, [status, pipeline, q, live.epoch]);
  const rows = useMemo(() => {
    const byId = new Map(fetched.map((r) => [r.runId, r]));
    for (const r of live.pushed.slice(since)) {
      const lower = q.toLowerCase();
      if ((status && r.status !== status) || (pipeline && r.pipeline !== pipeline)) continue;
      if (q && ![r.runId, r.failedStep ?? "", r.error ?? ""].some((s) => s.toLowerCase().includes(lower)))
        continue;
      byId.set(r.runId, r);
    }
    return [...byId.values()].sort((a, b) => b.time - a.time);
  }, [fetched, live.pushed, since]);
  const older = () => {
    const last = rows[rows.length - 1];
    if (!last) return;
    const p = params();
    p.set("before", String(last.time));
    load<{ runs: RunSummary[] }>(`api/runs?${p}`, (r) => setFetched((f) => [...f, ...r.runs]));
  };
  const pipelines = live.overview?.pipelines ?? [];
  return html`<h1>Runs</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>status <select name="status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
        ${["", "success", "failed", "cancelled", "running", "suspended", "interrupted"].map((s) => html`<option value=${s}>${s || "any"}</option>`)}
      </select></label>
      <label>pipeline <select name="pipeline" value=${pipeline} onChange=${(e: Event) => setPipeline((e.target as HTMLSelectElement).value)}>
        <option value="">any</option>${pipelines.map((p) => html`<option value=${p}>${p}</option>`)}
      </select></label>
      <label>search <input name="q" value=${q} placeholder="run id, step, error" onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} /></label>
    </form>
    <table class="runs" data-testid="runs">
      <thead><tr><th>run</th><th>pipeline</th><th>status</th><th>ended</th><th>duration</th><th>attempts</th><th>cost</th><th>failed step</th><th>error</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr data-run=${r.runId}>
            <td class="mono"><a href=${`#/runs/${encodeURIComponent(r.runId)}`}>${r.runId.slice(0, 8)}</a></td>
            <td>${r.pipeline}</td><td><${Status} s=${r.status} />${
              r.resumed
                ? html` <span class="resumed" data-testid="resumed" title=${`resumed: ${r.executions ?? 1} executions, ${r.replayed ?? 0} units replayed`}>↺ resumed</span>`
                : ""
            }</td><td>${when(r.time)}</td>
            <td>${ms(r.durationMs)}</td><td>${r.attempts}</td><td class="cost">${money(r.cost)}</td><td class="mono">${r.failedStep ?? ""}</td><td class="err">${r.error ?? ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${rows.length === 0 ? html`<p class="muted">no run matches</p>` : html`<button onClick=${older}>older runs</button>`}`;
}

interface Row {
  readonly unit: UnitView;
  readonly depth: number;
}
const flatten = (units: readonly UnitView[], depth = 0, out: Row[] = []): Row[] => {
  for (const unit of units) {
    out.push({ unit, depth });
    if (unit.children) flatten(unit.children, depth + 1, out);
  }
  return out;
};

function Artifact({ a }: { a: NonNullable<UnitView["artifacts"]>[number] }) {
  const kind = a.kind ?? "";
  const ext = a.path.slice(a.path.lastIndexOf(".") + 1).toLowerCase();
  const src = a.url ? withToken(a.url) : undefined;
  const player = !src
    ? html`<span class="muted">(outside the served folders)</span>`
    : kind === "video" || ["mp4", "webm", "mov", "mkv"].includes(ext)
      ? html`<video controls preload="metadata" src=${src}></video>`
      : kind === "audio" || ["wav", "mp3", "m4a", "ogg", "opus", "flac"].includes(ext)
        ? html`<audio controls preload="metadata" src=${src}></audio>`
        : html`<a href=${src}>open</a>`;
  const size = a.size === undefined ? "" : html` <span class="muted">${compact(a.size, "bytes")}</span>`;
  return html`<li class="artifact"><span class="mono">${a.path}</span>${size} ${player}</li>`;
}

/** One execution's units as a timeline; a replayed unit is a hatched marker labelled with what it saved. */
function Timeline({
  units,
  startTime,
  time,
  testid,
}: {
  units: readonly UnitView[];
  startTime?: number;
  time: number;
  testid: string;
}) {
  const rows = flatten(units);
  const start = rows.reduce((m, r) => Math.min(m, r.unit.time - r.unit.durationMs), startTime ?? time);
  const end = rows.reduce((m, r) => Math.max(m, r.unit.time), time);
  const span = Math.max(1, end - start);
  return html`<div class="timeline" data-testid=${testid}>
      ${rows.map(({ unit, depth }) => {
        if (unit.replayed)
          return html`<div class="unit replayed" data-path=${unit.path} data-replayed="true">
          <div class="label" style=${`padding-left:${depth * 14 + 4}px`}>
            <span class="mono">${unit.path}</span> <span class="replayed-tag" data-testid="replayed">replayed</span>
            ${unit.savedCost ? html`<span class="cost" data-testid="saved">saved ${money(unit.savedCost)}</span>` : ""}
          </div>
          <div class="track">
            <div class="bar replayed" style=${`left:${((unit.time - start) / span) * 100}%`} title=${`${unit.path}: replayed from the durable store, not executed`}></div>
          </div>
          <div class="dur replayed">replayed</div>
        </div>`;
        const left = ((unit.time - unit.durationMs - start) / span) * 100;
        const width = Math.max(0.4, (unit.durationMs / span) * 100);
        const attempts = unit.attemptsMs ?? [];
        const total = attempts.reduce((a, b) => a + b, 0) || 1;
        return html`<div class="unit" data-path=${unit.path} data-attempts=${unit.attempts}>
          <div class="label" style=${`padding-left:${depth * 14 + 4}px`}>
            <span class="mono">${unit.path}</span> <${Status} s=${unit.status} />
            ${unit.attempts > 1 ? html`<span class="retries">${unit.attempts} attempts</span>` : ""}
            ${unit.cost ? html`<span class="cost">${money(unit.cost)}</span>` : ""}
          </div>
          <div class="track">
            <div class=${`bar st-${unit.status}`} style=${`left:${left}%;width:${width}%`} title=${`${unit.path}: ${ms(unit.durationMs)}`}>
              ${
                attempts.length > 1
                  ? attempts.map(
                      (
                        a,
                        i,
                      ) => html`<span class=${`attempt ${i < attempts.length - 1 || unit.status !== "success" ? "bad" : "ok"}`}
                      style=${`width:${Math.max(2, (a / total) * 100)}%`} title=${`attempt ${i + 1}: ${ms(a)}`}></span>`,
                    )
                  : ""
              }
            </div>
          </div>
          <div class="dur">${ms(unit.durationMs)}</div>
          ${unit.error ? html`<div class="err unit-error">${unit.error}</div>` : ""}
        </div>`;
      })}
    </div>`;
}

export function RunDetailPage({ live, runId }: P & { runId: string }) {
  const [run, setRun] = useState<RunDetail | undefined>();
  const [missing, setMissing] = useState(false);
  const changed = live.pushed.find((r) => r.runId === runId);
  useEffect(() => {
    load<RunDetail>(`api/runs/${encodeURIComponent(runId)}`, setRun, (e) => {
      if (!(e instanceof TypeError)) setMissing(true);
    });
  }, [runId, changed?.time, changed?.status, changed?.steps, live.epoch]);
  if (missing) return html`<p>no run ${runId} in this folder</p>`;
  if (!run) return html`<p class="muted">loading…</p>`;
  const rows = [...(run.earlier ?? []).flatMap((e) => flatten(e.units)), ...flatten(run.units)];
  const findings = rows.flatMap((r) => (r.unit.findings ?? []).map((f) => ({ ...f, path: r.unit.path })));
  const artifacts = rows.flatMap((r) => r.unit.artifacts ?? []);
  return html`<h1>Run <span class="mono">${run.runId}</span></h1>
    <p><${Status} s=${run.status} />${run.resumed ? html` <span class="resumed">↺ resumed: ${run.executions} executions, ${run.replayed} units replayed</span>` : ""} ${run.pipeline} · ended ${when(run.time)} · ${ms(run.durationMs)} · ${run.attempts} attempts${run.cost ? html` · cost <span data-testid="run-cost">${money(run.cost)}</span>` : ""}</p>
    ${run.error ? html`<p class="err">failed at <span class="mono">${run.failedStep ?? "?"}</span>: ${run.error}</p>` : ""}
    <h2>Timeline${run.earlier ? " (last execution)" : ""}</h2>
    <${Timeline} units=${run.units} startTime=${run.earlier ? undefined : run.startTime} time=${run.time} testid="timeline" />
    ${(run.earlier ?? [])
      .map((e, i) => ({ e, n: i + 1 }))
      .reverse()
      .map(
        ({ e, n }) => html`<section class="execution" data-testid="earlier">
          <h2>Execution ${n} <${Status} s=${e.status} /> <span class="muted">ended ${when(e.time)} · ${ms(e.durationMs)}</span></h2>
          ${e.error ? html`<p class="err">failed at <span class="mono">${e.failedStep ?? "?"}</span>: ${e.error}</p>` : ""}
          <${Timeline} units=${e.units} time=${e.time} testid="timeline-earlier" />
        </section>`,
      )}
    <h2>Findings</h2>
    ${
      findings.length
        ? html`<table><thead><tr><th>unit</th><th>severity</th><th>check</th><th>file</th><th>message</th></tr></thead><tbody>
          ${findings.map((f) => html`<tr><td class="mono">${f.path}${f.attempt ? html` <span class="muted">attempt ${f.attempt}</span>` : ""}</td><td>${f.severity}</td><td>${f.check ?? ""}</td><td class="mono">${f.file ?? ""}</td><td>${f.message}</td></tr>`)}
        </tbody></table>`
        : html`<p class="muted">no validation finding recorded</p>`
    }
    <h2>Artifacts</h2>
    ${artifacts.length ? html`<ul>${artifacts.map((a) => html`<${Artifact} a=${a} />`)}</ul>` : html`<p class="muted">no artifact recorded</p>`}`;
}

export function StepsPage({ live }: P) {
  const [steps, setSteps] = useState<StepStats[]>([]);
  const [quality, setQuality] = useState<SeriesView[]>([]);
  useEffect(() => load<StepStats[]>("api/steps", setSteps), [live.tick, live.epoch]);
  useEffect(
    () => load<SeriesView[]>("api/series?prefix=tapline_audio_,tapline_video_,tapline_subtitle_", setQuality),
    [live.seriesTick, live.epoch],
  );
  return html`<h1>Steps</h1>
    <table>
      <thead><tr><th>pipeline</th><th>step</th><th>count</th><th>failure rate</th><th>retries</th><th title="units replayed from a durable store: not counted in the rest">replayed</th><th>p50</th><th>p95</th><th>top errors</th></tr></thead>
      <tbody>${steps.map(
        (s) => html`<tr data-step=${s.step}>
          <td>${s.pipeline}</td><td class="mono">${s.step}</td><td>${s.count}</td><td>${pct(s.count ? s.failures / s.count : 0)}</td>
          <td>${s.retries}</td><td class="replayed-count">${s.replayed ?? 0}</td><td>${ms(s.p50Ms)}</td><td>${ms(s.p95Ms)}</td>
          <td class="err">${s.topErrors.map((e) => html`<div>${e.count}× ${e.message}</div>`)}</td>
        </tr>`,
      )}</tbody>
    </table>
    <div class="grid2">${steps.map(
      (s) => html`<${Chart} title=${`${s.pipeline} / ${s.step}: duration per minute`} unit="ms"
        data=${[s.series.map((p) => p[0]), s.series.map((p) => p[1]), s.series.map((p) => p[2])]} labels=${["p50", "p95"]} />`,
    )}</div>
    ${
      quality.length
        ? html`<h2>Quality of the outputs</h2>
          <div class="grid2">${quality.slice(0, 12).map(
            (s) => html`<${Chart} title=${`${s.name}${s.labels ? ` {${s.labels}}` : ""}`} unit=${s.unit ?? ""}
              data=${[s.points.map((p) => p[0]), s.points.map((p) => p[1])]} labels=${[s.name]} />`,
          )}</div>`
        : ""
    }`;
}

const GROUPS: readonly [string, string][] = [
  ["CPU", "tapline_system_cpu"],
  ["Memory", "tapline_system_memory,tapline_system_swap,tapline_process_"],
  ["Load and processes", "tapline_system_load,tapline_system_processes"],
  ["Disk and network", "tapline_system_disk,tapline_system_network"],
  ["GPU", "nvidia_gpu_"],
];
const SYSTEM_PREFIXES = GROUPS.flatMap(([, p]) => p.split(","));

/** One chart per metric name, one line per label set (GPUs, disks), on the union of their times. */
function byName(
  series: readonly SeriesView[],
): { name: string; unit: string; labels: string[]; data: (number | null)[][] }[] {
  const groups = new Map<string, SeriesView[]>();
  for (const s of series) groups.set(s.name, [...(groups.get(s.name) ?? []), s]);
  return [...groups].map(([name, list]) => {
    const lines = list.slice(0, 8);
    const xs = [...new Set(lines.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const columns = lines.map((s) => {
      const col: (number | null)[] = new Array(xs.length).fill(null);
      for (const [x, y] of s.points) col[index.get(x)!] = y;
      return col;
    });
    return {
      name,
      unit: lines[0]?.unit ?? "",
      labels: lines.map((s) => s.labels || name),
      data: [xs, ...columns],
    };
  });
}

export function SystemPage({ live }: P) {
  const [series, setSeries] = useState<SeriesView[]>([]);
  useEffect(
    () => load<SeriesView[]>(`api/series?prefix=${SYSTEM_PREFIXES.join(",")}`, setSeries),
    [live.seriesTick, live.epoch],
  );
  if (series.length === 0)
    return html`<h1>System and GPU</h1>
      <p class="muted">no system sample in this folder (metrics({ system }) and gpu() write them)</p>`;
  return html`<h1>System and GPU</h1>
    ${GROUPS.map(([title, prefixes]) => {
      const list = series.filter((s) => prefixes.split(",").some((p) => s.name.startsWith(p)));
      if (list.length === 0) return "";
      return html`<h2>${title}</h2>
        <div class="grid2">
          ${byName(list)
            .slice(0, 16)
            .map((c) => html`<${Chart} title=${c.name} unit=${c.unit} data=${c.data} labels=${c.labels} />`)}
        </div>`;
    })}`;
}

export function AlertsPage({ live }: P) {
  const [alerts, setAlerts] = useState<AlertsView | undefined>();
  useEffect(() => load<AlertsView>("api/alerts", setAlerts), [live.alertsTick, live.tick]);
  if (!alerts) return html`<p class="muted">loading…</p>`;
  return html`<h1>Alerts</h1>
    <h2>Firing and pending</h2><${AlertTable} alerts=${alerts.firing} empty="nothing firing" />
    <h2>Silences</h2>
    ${alerts.silences.length ? html`<pre>${JSON.stringify(alerts.silences, null, 2)}</pre>` : html`<p class="muted">no silence reported</p>`}
    <h2>History</h2><${AlertTable} alerts=${alerts.history} empty="no alert history in this folder" />`;
}
