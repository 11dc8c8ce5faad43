import { isWellFormedUbrn } from './ubrn';

describe('isWellFormedUbrn', () => {
  it.each(['000000070000', '000000070002', '111111111111'])('accepts the e-RS example UBRN %s', (ubrn) => {
    expect(isWellFormedUbrn(ubrn)).toBe(true);
  });

  it.each(['', '00000007000', '0000000700000', '0000 0007 0000', '00000007000A', '０00000070000'])(
    'rejects %p',
    (ubrn) => {
      expect(isWellFormedUbrn(ubrn)).toBe(false);
    },
  );

  it('rejects values that are not strings', () => {
    expect(isWellFormedUbrn(70000 as unknown as string)).toBe(false);
  });
});
