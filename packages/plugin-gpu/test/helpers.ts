import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The fake nvidia-smi (a Node script replaying real captured output, see fixtures/README.md). */
export const FAKE = fileURLToPath(new URL("./fixtures/fake-nvidia-smi.mjs", import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A fresh temp dir. */
export const tempDir = () => mkdtempSync(join(tmpdir(), "tapline-gpu-"));

/** Sets env knobs of the fake for this test; returns a restore function. */
export function fakeEnv(vars: Record<string, string>): () => void {
  const old = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of old) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Starts logged by the fake through FAKE_SMI_LOG. */
export function starts(log: string): { pid: number; argv: string[] }[] {
  try {
    return readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { pid: number; argv: string[] });
  } catch {
    return [];
  }
}

/** Whether a PID is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` is true (polling), or fails after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
