import { seededRandom } from './random';
import { formatNhsNumber, generateNhsNumber, isValidNhsNumber, nhsNumberCheckDigit } from './nhs-number';

describe('isValidNhsNumber', () => {
  it.each(['9000000009', '9000000025', '9000000033'])('accepts the PDS sandbox patient %s', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it('accepts 9111231130, the sandbox not-found number, whose check digit is 11 -> 0', () => {
    expect(nhsNumberCheckDigit('911123113')).toBe(0);
    expect(isValidNhsNumber('9111231130')).toBe(true);
  });

  it('rejects 9000000000, the sandbox INVALID_RESOURCE_ID number (its check digit is 9)', () => {
    expect(nhsNumberCheckDigit('900000000')).toBe(9);
    expect(isValidNhsNumber('9000000000')).toBe(false);
  });

  it('accepts the EPS example patient 9449304130 and the NHS Digital example 9434765919', () => {
    expect(isValidNhsNumber('9449304130')).toBe(true);
    expect(isValidNhsNumber('9434765919')).toBe(true);
  });

  it('never accepts a number whose check digit would be 10, whatever the last digit', () => {
    // 900000005: 90 + 5 x 2 = 100, 100 mod 11 = 1, 11 - 1 = 10. Likewise 000000006 (12) and 123456789 (210).
    for (const firstNine of ['900000005', '000000006', '123456789']) {
      expect(nhsNumberCheckDigit(firstNine)).toBeNull();
      for (let last = 0; last <= 9; last += 1) expect(isValidNhsNumber(`${firstNine}${last}`)).toBe(false);
    }
    // control: 900000001 -> 90 + 2 = 92, 92 mod 11 = 4, 11 - 4 = 7
    expect(nhsNumberCheckDigit('900000001')).toBe(7);
  });

  it('accepts nothing but exactly ten ASCII digits', () => {
    for (const value of [
      '',
      '900000000',
      '90000000099',
      '900 000 0009',
      '900-000-0009',
      ' 9000000009',
      '9000000009\n',
      '９０００００００09', // full-width digits
      '90000000O9',
      '+900000009',
      '9e09000009',
    ]) {
      expect(isValidNhsNumber(value)).toBe(false);
    }
    expect(isValidNhsNumber(9000000009 as unknown as string)).toBe(false);
    expect(isValidNhsNumber(undefined as unknown as string)).toBe(false);
  });

  it('detects every single-digit substitution and every transposition of adjacent digits in the first nine', () => {
    for (const valid of ['9000000009', '9449304130', '9434765919', '9111231130']) {
      for (let position = 0; position < 10; position += 1) {
        for (let digit = 0; digit <= 9; digit += 1) {
          if (String(digit) === valid[position]) continue;
          const altered = `${valid.slice(0, position)}${digit}${valid.slice(position + 1)}`;
          expect(isValidNhsNumber(altered)).toBe(false);
        }
      }
      for (let position = 0; position < 8; position += 1) {
        if (valid[position] === valid[position + 1]) continue;
        const swapped = `${valid.slice(0, position)}${valid[position + 1]}${valid[position]}${valid.slice(position + 2)}`;
        expect(isValidNhsNumber(swapped)).toBe(false);
      }
    }
  });
});

describe('nhsNumberCheckDigit', () => {
  it('computes modulus 11 with weights 10..2', () => {
    // 9x10 + 4x9 + 3x8 + 4x7 + 7x6 + 6x5 + 5x4 + 9x3 + 1x2 = 299; 299 mod 11 = 2; 11 - 2 = 9
    expect(nhsNumberCheckDigit('943476591')).toBe(9);
    expect(nhsNumberCheckDigit('900000002')).toBe(5);
  });

  it('refuses anything but nine ASCII digits', () => {
    expect(() => nhsNumberCheckDigit('90000000')).toThrow(RangeError);
    expect(() => nhsNumberCheckDigit('9000000000')).toThrow(RangeError);
    expect(() => nhsNumberCheckDigit('90000000a')).toThrow(RangeError);
  });
});

describe('generateNhsNumber', () => {
  it('produces only valid numbers over a few thousand draws (seeded and Math.random)', () => {
    const random = seededRandom(20240601);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i += 1) {
      const value = generateNhsNumber(random);
      expect(isValidNhsNumber(value)).toBe(true);
      seen.add(value);
    }
    // 5000 draws from ~900 million valid numbers: collisions mean the digits are not random.
    expect(seen.size).toBeGreaterThan(4990);
    for (let i = 0; i < 2000; i += 1) expect(isValidNhsNumber(generateNhsNumber())).toBe(true);
  });

  it('keeps the requested prefix, e.g. 9 for the test range', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i += 1) {
      const value = generateNhsNumber(random, '999');
      expect(value.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(value)).toBe(true);
    }
  });

  it('redraws when the check digit would be 10', () => {
    // Draws 0.6 (digit 6) then 0.7 (digit 7): 000000006 has check 10 and must be discarded; 000000007 -> 8.
    const draws = [0.6, 0.7];
    const random = (): number => draws.shift() ?? 0;
    expect(generateNhsNumber(random, '00000000')).toBe('0000000078');
    expect(draws).toEqual([]);
  });

  it('copes with a random source that returns 1 or garbage', () => {
    expect(isValidNhsNumber(generateNhsNumber(() => 1))).toBe(true);
    expect(isValidNhsNumber(generateNhsNumber(() => Number.NaN, '9'))).toBe(true);
  });

  it('refuses a prefix that is not digits or cannot lead to a valid number', () => {
    expect(() => generateNhsNumber(Math.random, '9a')).toThrow(RangeError);
    expect(() => generateNhsNumber(Math.random, '9000000001')).toThrow(RangeError);
    expect(() => generateNhsNumber(Math.random, '900000005')).toThrow(RangeError);
    expect(generateNhsNumber(Math.random, '900000000')).toBe('9000000009');
  });
});

describe('formatNhsNumber', () => {
  it('groups the digits 3-3-4', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
    expect(formatNhsNumber('9000000009', '-')).toBe('900-000-0009');
  });

  it('refuses input that is not ten digits', () => {
    expect(() => formatNhsNumber('943 476 5919')).toThrow(RangeError);
    expect(() => formatNhsNumber('943476591')).toThrow(RangeError);
  });
});
