/** @internal A fixed-size ring of numbers (the last N durations of a step). */
export class Ring {
  readonly #values: Float64Array;
  #next = 0;
  #size = 0;
  #sorted: Float64Array | undefined;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  push(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#size < this.#values.length) this.#size++;
    this.#sorted = undefined;
  }

  /** The values, sorted ascending (cached until the next push). */
  sorted(): Float64Array {
    this.#sorted ??= this.#values.slice(0, this.#size).sort();
    return this.#sorted;
  }
}

/** @internal Nearest-rank quantile of sorted values; 0 when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
