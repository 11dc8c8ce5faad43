import { Batches } from './batches';

const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Batches', () => {
  it('writes 60 simultaneous callers in a few batches, never more than `parallel` at once, each caller resolved after its batch', async () => {
    const written: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const batches = new Batches<number>(
      async (items) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await tick();
        written.push(items);
        inFlight -= 1;
      },
      { parallel: 2, maxItems: 500 },
    );
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        batches.submit(index).then(() => {
          // Resolved only once its batch is written.
          expect(written.some((batch) => batch.includes(index))).toBe(true);
          done.push(index);
        }),
      ),
    );
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, index) => index));
    expect(written.flat().sort((a, b) => a - b)).toEqual(done);
    expect(most).toBe(2);
    expect(written.length).toBeLessThan(60);
    expect(batches.stats).toEqual({ batches: written.length, items: 60 });
  });

  it('fails every caller of a batch whose write fails, and only them: the next batch is written', async () => {
    const written: number[][] = [];
    const batches = new Batches<number>(
      async (items) => {
        await tick();
        if (items.includes(13)) throw new Error('the statement failed');
        written.push(items);
      },
      { parallel: 1, maxItems: 500 },
    );
    // 0 goes alone; 1..29 wait behind it and go together with the poisoned 13; 30..39 come afterwards.
    const first = Array.from({ length: 30 }, (_, index) => batches.submit(index));
    const outcomes = await Promise.allSettled(first);
    const late = await Promise.allSettled(Array.from({ length: 10 }, (_, index) => batches.submit(30 + index)));
    expect(outcomes[0]?.status).toBe('fulfilled');
    for (const outcome of outcomes.slice(1)) {
      expect(outcome).toEqual({ status: 'rejected', reason: new Error('the statement failed') });
    }
    expect(late.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    // 30 goes alone (nothing was waiting), 31..39 wait behind it and go together.
    expect(written).toEqual([[0], [30], Array.from({ length: 9 }, (_, index) => 31 + index)]);
  });

  it('fails a batch whose write throws before its first await like one whose statement fails', async () => {
    const batches = new Batches<number>(
      (items) => {
        if (items.includes(2)) throw new Error('refused at once');
        return Promise.resolve();
      },
      { parallel: 1, maxItems: 500 },
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((item) => batches.submit(item)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    await expect(batches.submit(4)).resolves.toBeUndefined();
  });

  it('keeps a batch within maxItems and, past its first item, within maxSize', async () => {
    const written: number[][] = [];
    const batches = new Batches<number>(
      async (items) => {
        await tick();
        written.push(items);
      },
      { parallel: 1, maxItems: 4, maxSize: 10, size: (item) => item },
    );
    await Promise.all([1, 20, 3, 3, 3, 1, 1, 1, 1, 1].map((item) => batches.submit(item)));
    expect(written).toEqual([[1], [20], [3, 3, 3, 1], [1, 1, 1, 1]]);
  });
});
