import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/**
 * @internal
 * Whether `binary` names an executable file, as a spawn would find it (a path, or a name looked up on PATH),
 * checked synchronously so a machine without nvidia-smi reports `unavailable` at once instead of `starting`.
 * Only a definite "no" counts: anything unexpected answers true and lets the spawn decide.
 */
export function executableExists(binary: string, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    if (binary.includes("/") || isAbsolute(binary)) return isExecutable(resolve(binary));
    for (const dir of (env.PATH ?? "").split(delimiter)) {
      if (dir !== "" && isExecutable(join(dir, binary))) return true;
    }
    return false;
  } catch {
    return true;
  }
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
