import { shareOf } from './load';

describe('load', () => {
  it('gives each connection its own share of the requests, covering all of them once', () => {
    const list = Array.from({ length: 10 }, (_, index) => index);
    const shares = [0, 1, 2].map((index) => shareOf(list, index, 3));
    expect(shares).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
  });

  it('gives every connection at least one request when there are fewer requests than connections', () => {
    const shares = [0, 1, 2, 3].map((index) => shareOf(['a', 'b'], index, 4));
    expect(shares).toEqual([['a'], ['a'], ['b'], ['b']]);
  });
});
