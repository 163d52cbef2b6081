import { readdir, readFile } from "node:fs/promises";

/**
 * The PIDs of `root` and all its descendants, read from `/proc/<pid>/stat` (Linux). Elsewhere (no /proc)
 * only `root` itself: per-process GPU memory then covers this process, not its children.
 */
export async function processTree(root: number = process.pid): Promise<Set<number>> {
  const tree = new Set([root]);
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return tree;
  }
  const parentOf = new Map<number, number>();
  await Promise.all(
    entries.map(async (name) => {
      const first = name.charCodeAt(0);
      if (first < 48 || first > 57) return;
      try {
        const stat = await readFile(`/proc/${name}/stat`, "latin1");
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ", 2)[1]);
        if (Number.isInteger(ppid)) parentOf.set(Number(name), ppid);
      } catch {
        // The process ended while we were reading: it is not part of anyone's tree any more.
      }
    }),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}
