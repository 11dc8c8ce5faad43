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
    const collect = backgroundCollector();
    let garbage: string[][] = [];
    for (let round = 0; round < 200; round += 1) {
      garbage.push(Array.from({ length: 2000 }, (_, index) => `garbage ${round} ${index} ${'x'.repeat(100)}`));
      if (garbage.length > 20) garbage = [];
    }
    garbage = [];
    const before = process.memoryUsage().heapUsed;
    collect();
    for (let wait = 0; wait < 100 && process.memoryUsage().heapUsed >= before * 0.8; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(process.memoryUsage().heapUsed).toBeLessThan(before * 0.8);
  });
});
