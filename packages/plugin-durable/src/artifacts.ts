import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Artifact } from "@tapline/core";

/** An artifact as saved with its unit: what it was when the unit succeeded. */
export interface SavedArtifact extends Artifact {
  readonly size: number;
  /** sha256 (base64url) of the content; absent with `verifyArtifacts: "size"`. */
  readonly sha256?: string;
}

/** How saved artifacts are checked before a replay. */
export type ArtifactCheck = "hash" | "size";

/** Size (and content hash) of each artifact, read as it is now. A missing file throws. */
export async function fingerprint(
  artifacts: readonly Artifact[],
  check: ArtifactCheck,
): Promise<SavedArtifact[]> {
  const out: SavedArtifact[] = [];
  for (const a of artifacts) {
    const info = await stat(a.path);
    out.push({ ...a, size: info.size, ...(check === "hash" && { sha256: await hashFile(a.path) }) });
  }
  return out;
}

/**
 * Why a saved unit's artifacts no longer hold (a file missing, resized or edited), or `undefined` when they
 * all still match: the unit then replays; otherwise it runs again.
 */
export async function changedArtifact(saved: readonly SavedArtifact[]): Promise<string | undefined> {
  for (const a of saved) {
    let size: number;
    try {
      const info = await stat(a.path);
      if (!info.isFile()) return `${a.path} is no longer a regular file`;
      size = info.size;
    } catch {
      return `${a.path} is missing`;
    }
    if (size !== a.size) return `${a.path} changed size (${a.size} → ${size} bytes)`;
    if (a.sha256 !== undefined && (await hashFile(a.path)) !== a.sha256) return `${a.path} changed content`;
  }
  return undefined;
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("base64url")));
  });
}
