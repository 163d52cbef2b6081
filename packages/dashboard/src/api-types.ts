// The JSON the server sends and the page reads (no Node types here: the browser bundle imports it too).

/** One unit (step, branch, map item) of a run, as the page shows it. */
export interface UnitView {
  /** `scenes[3]`, `media.voice`; the step name before units exist. */
  readonly path: string;
  readonly step: string;
  readonly status: string;
  /** Epoch ms when it ended. */
  readonly time: number;
  readonly durationMs: number;
  readonly attempts: number;
  /** Each attempt's duration, when there were several. */
  readonly attemptsMs?: readonly number[];
  readonly error?: string;
  /** What the unit cost (a shape: every unit inside), by cost unit, when it recorded any. */
  readonly cost?: Readonly<Record<string, number>>;
  /**
   * Set when a durable store replayed the unit (a resumed run): it was not executed (its duration is the
   * replay's, not a run's); a shape is replayed when every unit inside it was.
   */
  readonly replayed?: true;
  /** A replayed unit's: what its first execution cost, which the replay saved. */
  readonly savedCost?: Readonly<Record<string, number>>;
  readonly findings?: readonly FindingView[];
  readonly artifacts?: readonly ArtifactView[];
  readonly children?: readonly UnitView[];
}

export interface FindingView {
  readonly severity: string;
  readonly message: string;
  readonly file?: string;
  readonly check?: string;
  /** The attempt it came from, when a later attempt replaced that output (a retry). */
  readonly attempt?: number;
}

export interface ArtifactView {
  readonly path: string;
  readonly kind?: string;
  /** Bytes, when the record has it. */
  readonly size?: number;
  /** The URL the page can load it from, when it lies under a served folder. */
  readonly url?: string;
}

/** A run in the Runs table. */
export interface RunSummary {
  readonly runId: string;
  readonly pipeline: string;
  /** `running` until its run record arrives. */
  readonly status: string;
  /** Epoch ms: when it ended (or its latest step ended while it runs). */
  readonly time: number;
  readonly startTime: number;
  readonly durationMs: number;
  /** Attempts summed over its units. */
  readonly attempts: number;
  readonly steps: number;
  readonly failedStep?: string;
  readonly error?: string;
  /**
   * What the run cost, by cost unit (`{ usd: 0.026, tokens: 264 }`), when it recorded any: its run record's,
   * or while it runs, its finished top-level steps' together.
   */
  readonly cost?: Readonly<Record<string, number>>;
  /** Set when the run was resumed (`@tapline/plugin-durable`): executed more than once, or units replayed. */
  readonly resumed?: true;
  /** A resumed run's: how many times it was executed, and how many units were replayed (not executed). */
  readonly executions?: number;
  readonly replayed?: number;
}

/** One earlier execution of a resumed run. */
export interface ExecutionView {
  /** How it ended (`failed`, `suspended`...), or `interrupted` when its process died. */
  readonly status: string;
  /** Epoch ms when it ended (its last unit's end when it has no run record). */
  readonly time: number;
  readonly durationMs: number;
  readonly failedStep?: string;
  readonly error?: string;
  readonly units: readonly UnitView[];
}

export interface RunDetail extends RunSummary {
  /** The unit tree of its last execution. */
  readonly units: readonly UnitView[];
  /** A resumed run's earlier executions, oldest first. */
  readonly earlier?: readonly ExecutionView[];
}

export interface StepStats {
  readonly pipeline: string;
  readonly step: string;
  readonly count: number;
  readonly failures: number;
  /** Units replayed rather than executed (durable runs): not in `count`, `failures` or the durations. */
  readonly replayed?: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly retries: number;
  readonly topErrors: readonly { readonly message: string; readonly count: number }[];
  /** Per minute: [epoch s, p50 ms, p95 ms, failures]. */
  readonly series: readonly (readonly [number, number, number, number])[];
}

export interface StatusPartView {
  readonly component: string;
  readonly level: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface AlertView {
  readonly time: number;
  readonly rule: string;
  readonly level: string;
  readonly state: string;
  readonly message: string;
  readonly labels: Record<string, string>;
  readonly fingerprint: string;
  readonly muted?: string;
  readonly runId?: string;
}

export interface Overview {
  readonly dir: string;
  readonly now: number;
  readonly status?: {
    readonly level: string;
    readonly message: string;
    readonly time: number;
    readonly parts: readonly StatusPartView[];
  };
  readonly totals: {
    readonly runs: number;
    readonly successes: number;
    readonly failures: number;
    /** Runs waiting in `suspended` (they count as neither success nor failure). */
    readonly suspended: number;
    readonly running: number;
  };
  /** Last 60 minutes: [epoch s of the minute, successes, failures]. */
  readonly perMinute: readonly (readonly [number, number, number])[];
  readonly steps: readonly {
    readonly pipeline: string;
    readonly step: string;
    readonly p95Ms: number;
    readonly count: number;
    readonly failures: number;
    readonly replayed?: number;
  }[];
  readonly firing: readonly AlertView[];
  /** What the finished runs cost, by cost unit: all those read, the last hour's and the last 24 hours'. */
  readonly spend: {
    readonly total: Readonly<Record<string, number>>;
    readonly lastHour: Readonly<Record<string, number>>;
    readonly last24h: Readonly<Record<string, number>>;
    /** The app's window budgets (`@tapline/plugin-limits`' status part), when it has any. */
    readonly windows?: Readonly<
      Record<
        string,
        {
          readonly period: string;
          readonly spent: Readonly<Record<string, number>>;
          readonly limit: Readonly<Record<string, number>>;
        }
      >
    >;
  };
  /** What `<dir>/durable.sqlite` (`@tapline/plugin-durable`) holds, when the folder has one. */
  readonly durable?: DurableView;
  /** Breaker name → key → state, from plugin-retry's status part. */
  readonly breakers: Record<string, Record<string, string>>;
  readonly pipelines: readonly string[];
  readonly warnings: number;
}

export interface SeriesView {
  readonly name: string;
  readonly labels: string;
  readonly unit?: string;
  /** [epoch s, value]. */
  readonly points: readonly (readonly [number, number])[];
}

export interface AlertsView {
  readonly firing: readonly AlertView[];
  readonly history: readonly AlertView[];
  readonly silences: readonly unknown[];
}

/** What one event-stream message carries. */
export interface UpdateMessage {
  readonly overview: Overview;
  /** Runs that started or changed since the last message, newest last. */
  readonly runs: readonly RunSummary[];
  /** Something changed in metrics or alerts. */
  readonly series: boolean;
  readonly alerts: boolean;
}

/** A suspended durable run, waiting for `tapline approve`. */
export interface WaitingRun {
  readonly runId: string;
  readonly pipeline: string;
  /** The unit that suspended it, its reason and data (redacted). */
  readonly unit?: string;
  readonly reason: string;
  readonly data?: unknown;
  /** Epoch ms when it suspended. */
  readonly since: number;
  /** The command that approves it (the pipeline module is the user's: `<module>` stands for it). */
  readonly approve: string;
}

/** A durable run saved as running whose lease ran out: its process died; `tapline resume` continues it. */
export interface InterruptedRun {
  readonly runId: string;
  readonly pipeline: string;
  /** Epoch ms of its last saved change. */
  readonly since: number;
  readonly resume: string;
}

/** What the durable store holds, for the Overview. */
export interface DurableView {
  /** The store file. */
  readonly store: string;
  /** Why it cannot be read (plugin-durable missing, a damaged file...): then the lists are empty. */
  readonly error?: string;
  readonly waiting: readonly WaitingRun[];
  readonly interrupted: readonly InterruptedRun[];
}
