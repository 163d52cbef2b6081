/**
 * @internal
 * The two containers the statistical rule kinds are built from: a ring of (time, value) samples bounded by age
 * and count, and a sorted multiset with O(1) medians and O(log n) MADs.
 */

/** MAD → σ for normal data. */
const MAD_SCALE = 1.4826;
/** Mean absolute deviation → σ, used when more than half the values are equal (MAD is 0). */
const MEAN_AD_SCALE = 1.2533;

/** A ring of (time, value) samples bounded by age and count; `onDrop` sees each sample that leaves. */
export class Ring {
  times: Float64Array;
  values: Float64Array;
  head = 0;
  size = 0;
  lastTime = Number.NEGATIVE_INFINITY;
  readonly #max: number;

  constructor(max: number) {
    this.#max = Math.max(1, max);
    const initial = Math.min(this.#max, 16);
    this.times = new Float64Array(initial);
    this.values = new Float64Array(initial);
  }

  at(i: number): number {
    return this.values[(this.head + i) % this.values.length]!;
  }

  timeAt(i: number): number {
    return this.times[(this.head + i) % this.times.length]!;
  }

  /** Adds a sample; when the ring is full its oldest sample goes to `onDrop` first. */
  push(time: number, value: number, onDrop: (t: number, v: number) => void): void {
    if (this.size === this.times.length) {
      if (this.size >= this.#max) this.dropOldest(onDrop);
      else this.#grow();
    }
    const at = (this.head + this.size) % this.times.length;
    this.times[at] = time;
    this.values[at] = value;
    this.size++;
    if (time > this.lastTime) this.lastTime = time;
  }

  evictBefore(cutoff: number, onDrop: (t: number, v: number) => void): void {
    while (this.size > 0 && this.times[this.head]! < cutoff) this.dropOldest(onDrop);
  }

  dropOldest(onDrop: (t: number, v: number) => void): void {
    const t = this.times[this.head]!;
    const v = this.values[this.head]!;
    this.head = (this.head + 1) % this.times.length;
    this.size--;
    onDrop(t, v);
  }

  #grow(): void {
    const cap = this.times.length;
    const next = Math.min(this.#max, cap * 2);
    const times = new Float64Array(next);
    const values = new Float64Array(next);
    for (let i = 0; i < this.size; i++) {
      times[i] = this.times[(this.head + i) % cap]!;
      values[i] = this.values[(this.head + i) % cap]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}

/** A multiset of numbers kept sorted (binary search + `copyWithin`), for O(1) medians and O(n) MADs. */
export class SortedValues {
  #a: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.#a = new Float64Array(Math.max(16, Math.min(capacity, 64)));
  }

  insert(v: number): void {
    if (this.size === this.#a.length) {
      const next = new Float64Array(this.#a.length * 2);
      next.set(this.#a);
      this.#a = next;
    }
    const i = this.#lowerBound(v);
    this.#a.copyWithin(i + 1, i, this.size);
    this.#a[i] = v;
    this.size++;
  }

  remove(v: number): void {
    const i = this.#lowerBound(v);
    if (i >= this.size || this.#a[i] !== v) return;
    this.#a.copyWithin(i, i + 1, this.size);
    this.size--;
  }

  /** Removes `old` and inserts `v` in one move (the steady state of a sliding window: one out, one in). */
  replace(old: number, v: number): void {
    const a = this.#a;
    const i = this.#lowerBound(old);
    if (i >= this.size || a[i] !== old) {
      this.insert(v);
      return;
    }
    const j = this.#lowerBound(v);
    if (j > i) {
      a.copyWithin(i, i + 1, j);
      a[j - 1] = v;
    } else {
      a.copyWithin(j + 1, j, i);
      a[j] = v;
    }
  }

  median(): number {
    const n = this.size;
    const a = this.#a;
    const mid = n >> 1;
    return n % 2 === 1 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
  }

  /**
   * The spread as a σ estimate: 1.4826 × MAD, or 1.2533 × the mean absolute deviation when MAD is 0 (more than
   * half the values equal). The deviations from the median are two sorted runs (walking out from the middle,
   * left and right), so their median is a k-th smallest of two sorted arrays: O(log n), with no sort and no copy.
   */
  sigma(median: number): number {
    const n = this.size;
    if (n < 2) return 0;
    const mid = n >> 1;
    const odd = n % 2 === 1;
    // left deviations: median - a[mid-1-i], i < mid; right: a[rBase+j] - median, j < mid
    const rBase = odd ? mid + 1 : mid;
    // odd: the middle element's deviation 0 is the smallest, so the median of all n is the (mid-1)-th of the rest
    const mad = odd
      ? this.#kthDeviation(mid - 1, median, mid, rBase)
      : (this.#kthDeviation(mid - 1, median, mid, rBase) + this.#kthDeviation(mid, median, mid, rBase)) / 2;
    if (mad > 0) return MAD_SCALE * mad;
    const a = this.#a;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(a[i]! - median);
    return (MEAN_AD_SCALE * sum) / n;
  }

  /** The k-th smallest (0-based) of the left and right deviation runs, each `len` long. */
  #kthDeviation(k: number, median: number, len: number, rBase: number): number {
    const a = this.#a;
    const lTop = len - 1; // left run: L(i) = median - a[lTop - i]
    let lo = Math.max(0, k + 1 - len);
    let hi = Math.min(k + 1, len);
    while (lo < hi) {
      const i = (lo + hi) >> 1; // i from the left run, j = k + 1 - i from the right
      const j = k + 1 - i;
      if (j > 0 && median - a[lTop - i]! < a[rBase + j - 1]! - median) lo = i + 1;
      else hi = i;
    }
    const j = k + 1 - lo;
    const fromL = lo > 0 ? median - a[lTop - lo + 1]! : Number.NEGATIVE_INFINITY;
    const fromR = j > 0 ? a[rBase + j - 1]! - median : Number.NEGATIVE_INFINITY;
    return Math.max(fromL, fromR);
  }

  #lowerBound(v: number): number {
    let lo = 0;
    let hi = this.size;
    const a = this.#a;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
