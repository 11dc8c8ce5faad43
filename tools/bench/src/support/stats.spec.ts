import { median, percentileOfSorted, Samples } from './stats';

describe('stats', () => {
  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentileOfSorted(sorted, 50)).toBe(50);
    expect(percentileOfSorted(sorted, 99)).toBe(99);
    expect(percentileOfSorted([7], 99)).toBe(7);
  });

  it('keeps any number of samples and sorts them numerically', () => {
    const samples = new Samples();
    for (let index = 70_000; index > 0; index -= 1) samples.push(index / 10);
    expect(samples.count).toBe(70_000);
    const sorted = samples.sorted();
    expect([sorted[0], sorted[69_999]]).toEqual([0.1, 7000]);
  });
});
