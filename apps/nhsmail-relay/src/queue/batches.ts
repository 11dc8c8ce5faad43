/**
 * Batched writes: items that arrive while earlier batches are being written wait, and are then written
 * together by one call of `write` (one statement, one round trip, one WAL flush) instead of one each. At most
 * `parallel` batches are in flight, and a batch takes at most `maxItems` items and, past its first item,
 * `maxSize` of their `size`. A batch that fails fails every item in it; an item's promise resolves only after
 * its batch's `write` has resolved.
 */
export class Batches<T> {
  private readonly waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  /** Batches written so far and items in them (for tests and the benchmark's round-trip count). */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly limits: { parallel: number; maxItems: number; maxSize?: number; size?: (item: T) => number },
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    const { parallel, maxItems, maxSize = Infinity, size = () => 0 } = this.limits;
    while (this.inFlight < parallel && this.waiting.length > 0) {
      let total = 0;
      let take = 0;
      while (take < this.waiting.length && take < maxItems) {
        total += size(this.waiting[take].item);
        if (take > 0 && total > maxSize) break;
        take += 1;
      }
      const batch = this.waiting.splice(0, take);
      this.inFlight += 1;
      // write() is called in a microtask, so a synchronous throw rejects the batch like a failed statement.
      Promise.resolve()
        .then(() => this.write(batch.map((entry) => entry.item)))
        .then(
          () => {
            this.stats.batches += 1;
            this.stats.items += batch.length;
            for (const entry of batch) entry.resolve();
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          this.next();
        });
    }
  }
}
