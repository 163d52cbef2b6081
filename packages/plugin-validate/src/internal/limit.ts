/** A promise limiter: at most `size` tasks run at once; the others wait in FIFO order. */
export class Limiter {
  readonly size: number;
  #active = 0;
  readonly #queue: (() => void)[] = [];
  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.size) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}
