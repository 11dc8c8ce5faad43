import { backgroundCollector, MemoryShedding } from './memory-shedding';

describe('MemoryShedding', () => {
  const burst = (shedding: MemoryShedding, messages: number): void => {
    for (let index = 0; index < messages; index += 1) shedding.note();
  };

  it('collects once when a burst of mail is followed by a quiet interval, not while it goes on', () => {
    const collect = jest.fn();
    const shedding = new MemoryShedding(collect, { burst: 100, quietMs: 1000 });
    burst(shedding, 80);
    shedding.tick();
    burst(shedding, 80);
    shedding.tick();
    expect(collect).not.toHaveBeenCalled();
    shedding.tick();
    expect(collect).toHaveBeenCalledTimes(1);
    shedding.tick();
    shedding.tick();
    expect(collect).toHaveBeenCalledTimes(1);
    burst(shedding, 150);
    shedding.tick();
    shedding.tick();
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('never collects for sporadic mail below the burst', () => {
    const collect = jest.fn();
    const shedding = new MemoryShedding(collect, { burst: 100, quietMs: 1000 });
    for (let second = 0; second < 300; second += 1) {
      if (second % 5 === 0) shedding.note();
      shedding.tick();
    }
    // 60 messages in five minutes, never 100 between collections.
    expect(collect).not.toHaveBeenCalled();
  });

  it("gives the heap's garbage back: the heap is smaller after the background collection", async () => {
    // The worker's heap also holds every suite run in it before this one, so the test measures its own
    // garbage: 80 MB of arrays of doubles, each large enough to live in V8's large-object space (old
    // generation, which only a full collection frees), dropped just before the collection.
    const MB = 1024 * 1024;
    const collect = backgroundCollector();
    let garbage: number[][] | undefined = Array.from({ length: 20 }, () => new Array<number>(MB / 2).fill(0.5));
    expect(garbage).toHaveLength(20);
    garbage = undefined;
    const before = process.memoryUsage().heapUsed;
    collect();
    for (let wait = 0; wait < 250 && process.memoryUsage().heapUsed >= before - 60 * MB; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(process.memoryUsage().heapUsed).toBeLessThan(before - 60 * MB);
  });
});
