/** @internal A waiting unit in a FIFO list that supports O(1) removal (abort, timeout). */
export interface Waiter<T> {
  readonly value: T;
  readonly start: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  done: boolean;
}

/** @internal A doubly linked FIFO of waiters. */
export class WaiterList<T> {
  first: Waiter<T> | undefined;
  last: Waiter<T> | undefined;
  size = 0;

  push(
    value: T,
    start: number,
    signal: AbortSignal | undefined,
    onAbort: (w: Waiter<T>) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter<T> = {
        value,
        start,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        prev: this.last,
        next: undefined,
        done: false,
      };
      if (this.last) this.last.next = w;
      else this.first = w;
      this.last = w;
      this.size++;
      if (signal) {
        w.onAbort = () => onAbort(w);
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
    });
  }

  /** Takes `w` out of the list (it must still be in it) and forgets its abort listener. */
  remove(w: Waiter<T>): void {
    if (w.prev) w.prev.next = w.next;
    else this.first = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.last = w.prev;
    w.prev = w.next = undefined;
    w.done = true;
    this.size--;
    if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
  }

  /** Removes and resolves `w`. */
  grant(w: Waiter<T>): void {
    this.remove(w);
    w.resolve();
  }

  /** Removes and rejects `w`. */
  fail(w: Waiter<T>, error: unknown): void {
    this.remove(w);
    w.reject(error);
  }

  /** Rejects every waiter. */
  failAll(error: () => unknown): void {
    while (this.first) this.fail(this.first, error());
  }
}
