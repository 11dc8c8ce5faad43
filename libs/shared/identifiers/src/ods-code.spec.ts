import { isWellFormedOdsCode } from './ods-code';

describe('isWellFormedOdsCode', () => {
  it.each(['R69', '84H', 'RRERP', 'VNE51', 'FCG72', 'A83008', 'T1450'])('accepts %s', (code) => {
    expect(isWellFormedOdsCode(code)).toBe(true);
  });

  it.each(['', 'R6', 'A830081', 'a83008', 'A8300 ', ' A8300', 'A83-08', 'A83_08', 'É8300'])('rejects %p', (code) => {
    expect(isWellFormedOdsCode(code)).toBe(false);
  });

  it('rejects values that are not strings', () => {
    expect(isWellFormedOdsCode(123456 as unknown as string)).toBe(false);
  });
});
