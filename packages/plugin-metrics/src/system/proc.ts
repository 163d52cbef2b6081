import { readdir, readFile, statfs } from "node:fs/promises";

/** Filesystems that hold data (the rest of /proc/mounts is pseudo: proc, sysfs, cgroup, tmpfs...). */
const DATA_FS = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "zfs",
  "f2fs",
  "vfat",
  "exfat",
  "ntfs",
  "ntfs3",
  "jfs",
  "reiserfs",
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "fuseblk",
  "overlay",
  "bcachefs",
]);

/** CPU jiffies of one line of /proc/stat. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** @internal Parses /proc/stat: the aggregate line then one per core. */
export function parseProcStat(text: string): { total: CpuTimes; cores: CpuTimes[] } {
  let total: CpuTimes = { busy: 0, total: 0 };
  const cores: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const parts = line.split(/\s+/);
    let sum = 0;
    // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user/nice)
    for (let i = 1; i <= 8 && i < parts.length; i++) sum += Number(parts[i]) || 0;
    const idle = (Number(parts[4]) || 0) + (Number(parts[5]) || 0);
    const times = { busy: sum - idle, total: sum };
    if (parts[0] === "cpu") total = times;
    else cores.push(times);
  }
  return { total, cores };
}

/** @internal Parses /proc/meminfo into bytes. */
export function parseMeminfo(text: string): {
  total: number;
  available: number;
  swapTotal: number;
  swapFree: number;
} {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  const total = kb("MemTotal");
  const available = text.includes("MemAvailable:")
    ? kb("MemAvailable")
    : kb("MemFree") + kb("Buffers") + kb("Cached");
  return { total, available, swapTotal: kb("SwapTotal"), swapFree: kb("SwapFree") };
}

/** @internal Parses /proc/loadavg. */
export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/);
  return [Number(a) || 0, Number(b) || 0, Number(c) || 0];
}

/** @internal Parses /proc/net/dev: cumulative rx/tx bytes per interface. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    out.set(name, { rx: Number(fields[0]) || 0, tx: Number(fields[8]) || 0 });
  }
  return out;
}

/** @internal Parses /proc/diskstats: cumulative read/written bytes per block device (loop and ram left out). */
export function parseDiskstats(text: string): Map<string, { read: number; written: number }> {
  const out = new Map<string, { read: number; written: number }>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const name = f[2]!;
    if (name.startsWith("loop") || name.startsWith("ram")) continue;
    // sectors are always 512 bytes in /proc/diskstats
    out.set(name, { read: (Number(f[5]) || 0) * 512, written: (Number(f[9]) || 0) * 512 });
  }
  return out;
}

/** @internal Mount points of data filesystems from /proc/mounts (deduplicated by device). */
export function parseMounts(text: string): string[] {
  const seen = new Set<string>();
  const mounts: string[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, type] = line.split(" ");
    if (!device || !mount || !type || !DATA_FS.has(type)) continue;
    if (seen.has(device) && type !== "overlay") continue;
    seen.add(device);
    mounts.push(mount.replace(/\\040/g, " "));
  }
  return mounts;
}

/** @internal Reads a /proc file. */
export const readProc = (path: string): Promise<string> => readFile(path, "utf8");

/** @internal Used ratio of a mounted filesystem, from statfs (what `df` shows: used / (used + available to users)). */
export async function diskUsedRatio(mount: string): Promise<number> {
  const s = await statfs(mount);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  return used + avail > 0 ? used / (used + avail) : 0;
}

/** @internal Number of processes (numeric entries of /proc). */
export async function processCount(): Promise<number> {
  const names = await readdir("/proc");
  let n = 0;
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}
