import htm from "htm";
import { h, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Overview, RunSummary, UpdateMessage } from "../api-types.ts";
import { events, load } from "./api.ts";
import { AlertsPage, OverviewPage, RunDetailPage, RunsPage, StepsPage, SystemPage } from "./pages.ts";

const html = htm.bind(h);

/** What every page may read; the event stream keeps it current. */
export interface Live {
  readonly overview: Overview | undefined;
  /** Runs pushed since the page opened (newest last), for the Runs page to merge. */
  readonly pushed: readonly RunSummary[];
  /** Bumped on every push, per kind: pages refetch what they show. */
  readonly tick: number;
  readonly seriesTick: number;
  readonly alertsTick: number;
  readonly connected: boolean;
  /** Bumped on every (re)connection of the stream: what was missed while away is fetched again. */
  readonly epoch: number;
}

function useLive(): Live {
  const [live, setLive] = useState<Live>({
    overview: undefined,
    pushed: [],
    tick: 0,
    seriesTick: 0,
    alertsTick: 0,
    connected: false,
    epoch: 0,
  });
  useEffect(() => {
    load<Overview>("api/overview", (overview) =>
      setLive((l) => ({ ...l, overview: l.overview ?? overview })),
    );
    const source = events();
    source.addEventListener("open", () => setLive((l) => ({ ...l, connected: true })));
    source.addEventListener("error", () => setLive((l) => ({ ...l, connected: false })));
    source.addEventListener("hello", (e) => {
      const { overview } = JSON.parse((e as MessageEvent<string>).data) as { overview: Overview };
      setLive((l) => ({ ...l, overview, connected: true, tick: l.tick + 1, epoch: l.epoch + 1 }));
    });
    source.addEventListener("update", (e) => {
      const m = JSON.parse((e as MessageEvent<string>).data) as UpdateMessage;
      setLive((l) => {
        const pushed = new Map(l.pushed.map((r) => [r.runId, r]));
        for (const r of m.runs) pushed.set(r.runId, r);
        const list = [...pushed.values()].slice(-500);
        return {
          overview: m.overview,
          pushed: list,
          tick: l.tick + 1,
          seriesTick: l.seriesTick + (m.series ? 1 : 0),
          alertsTick: l.alertsTick + (m.alerts ? 1 : 0),
          connected: true,
          epoch: l.epoch,
        };
      });
    });
    return () => source.close();
  }, []);
  return live;
}

function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || "/");
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || "/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

const NAV = [
  ["/", "Overview"],
  ["/runs", "Runs"],
  ["/steps", "Steps"],
  ["/system", "System"],
  ["/alerts", "Alerts"],
] as const;

function App() {
  const live = useLive();
  const route = useRoute();
  const [path, query = ""] = route.split("?");
  let page: unknown;
  if (path?.startsWith("/runs/"))
    page = html`<${RunDetailPage} live=${live} runId=${decodeURIComponent(path.slice(6))} />`;
  else if (path === "/runs") page = html`<${RunsPage} live=${live} query=${query} />`;
  else if (path === "/steps") page = html`<${StepsPage} live=${live} />`;
  else if (path === "/system") page = html`<${SystemPage} live=${live} />`;
  else if (path === "/alerts") page = html`<${AlertsPage} live=${live} />`;
  else page = html`<${OverviewPage} live=${live} />`;
  const level = live.overview?.status?.level ?? "unknown";
  return html`<header>
      <strong class="brand">Tapline</strong>
      <nav>
        ${NAV.map(
          ([href, label]) =>
            html`<a href=${`#${href}`} class=${(href === "/" ? path === "/" : path?.startsWith(href)) ? "active" : ""}>${label}</a>`,
        )}
      </nav>
      <span class=${`pill level-${level}`} data-testid="health">${level}</span>
      <span class=${`live ${live.connected ? "on" : "off"}`} title=${live.overview?.dir ?? ""}>${live.connected ? "live" : "offline"}</span>
    </header>
    <main>${page}</main>`;
}

render(html`<${App} />`, document.getElementById("app")!);
