import { seededRandom } from './random';
import {
  PRESCRIPTION_CHECK_ALPHABET,
  generateShortFormPrescriptionId,
  isValidShortFormPrescriptionId,
  prescriptionCheckCharacter,
} from './prescription-id';

/** Every ID obtained from one character change of `id` (hyphens kept in place). */
function singleCharacterVariants(id: string): string[] {
  const variants: string[] = [];
  for (let position = 0; position < id.length; position += 1) {
    if (id[position] === '-') continue;
    for (const char of PRESCRIPTION_CHECK_ALPHABET) {
      if (char === id[position]) continue;
      variants.push(`${id.slice(0, position)}${char}${id.slice(position + 1)}`);
    }
  }
  return variants;
}

describe('prescriptionCheckCharacter', () => {
  it('computes ISO/IEC 7064 MOD 37-2 over the 17 characters before the check character', () => {
    expect(prescriptionCheckCharacter('A0548BA99968451485'.slice(0, 17))).toBe('5');
    expect(prescriptionCheckCharacter('24F5DAA830087EFE6')).toBe('Z');
    expect(prescriptionCheckCharacter('76787CC8100700001')).toBe('G');
  });

  it('makes the weighted sum of all 18 characters congruent to 1 mod 37 (the ISO 7064 pure-system property)', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 500; i += 1) {
      const id = generateShortFormPrescriptionId('A83008', random).replace(/-/g, '');
      let sum = 0;
      for (const char of id) sum = (sum * 2 + PRESCRIPTION_CHECK_ALPHABET.indexOf(char)) % 37;
      expect(sum).toBe(1);
    }
  });

  it('refuses a body that is not 17 uppercase letters or digits', () => {
    expect(() => prescriptionCheckCharacter('A0548BA9996845148')).not.toThrow();
    expect(() => prescriptionCheckCharacter('A0548B-A99968-45148')).toThrow(RangeError);
    expect(() => prescriptionCheckCharacter('a0548ba9996845148')).toThrow(RangeError);
    expect(() => prescriptionCheckCharacter('A0548BA999684514')).toThrow(RangeError);
    expect(() => prescriptionCheckCharacter('A0548BA999684514+')).toThrow(RangeError);
  });
});

describe('isValidShortFormPrescriptionId', () => {
  it('accepts the published example IDs', () => {
    for (const id of ['A0548B-A99968-451485', '24F5DA-A83008-7EFE6Z', 'CDF34E-A99968-4FF3BQ', '76787C-C81007-00001G']) {
      expect(isValidShortFormPrescriptionId(id)).toBe(true);
    }
  });

  it('rejects the ID of the published INVALID_CHECKSUM example (its check character should be F, not P)', () => {
    expect(prescriptionCheckCharacter('269CA9A999684577B')).toBe('F');
    expect(isValidShortFormPrescriptionId('269CA9-A99968-4577BP')).toBe(false);
    expect(isValidShortFormPrescriptionId('269CA9-A99968-4577BF')).toBe(true);
  });

  it('detects every single-character change', () => {
    for (const id of ['A0548B-A99968-451485', '24F5DA-A83008-7EFE6Z']) {
      for (const variant of singleCharacterVariants(id)) expect(isValidShortFormPrescriptionId(variant)).toBe(false);
    }
  });

  it('detects every transposition of two different adjacent characters', () => {
    const compact = 'A0548BA99968451485';
    for (let position = 0; position < 17; position += 1) {
      if (compact[position] === compact[position + 1]) continue;
      const swapped = `${compact.slice(0, position)}${compact[position + 1]}${compact[position]}${compact.slice(position + 2)}`;
      const id = `${swapped.slice(0, 6)}-${swapped.slice(6, 12)}-${swapped.slice(12)}`;
      expect(isValidShortFormPrescriptionId(id)).toBe(false);
    }
  });

  it('accepts nothing but three hyphen-separated groups of six uppercase alphanumerics', () => {
    for (const value of [
      '',
      'A0548BA99968451485',
      'a0548b-a99968-451485',
      'A0548B-A99968-451485 ',
      ' A0548B-A99968-451485',
      'A0548B A99968 451485',
      'A0548B-A99968-45148',
      'A0548B-A99968-4514855',
      'A0548-BA99968-451485',
      'A0548B_A99968_451485',
      '+0548B-A99968-451485',
    ]) {
      expect(isValidShortFormPrescriptionId(value)).toBe(false);
    }
    expect(isValidShortFormPrescriptionId(null as unknown as string)).toBe(false);
  });

  it("accepts '+' as the check character where MOD 37-2 gives 36", () => {
    const random = seededRandom(11);
    let found: string | undefined;
    for (let i = 0; i < 5000 && found === undefined; i += 1) {
      const id = generateShortFormPrescriptionId('A83008', random);
      if (id.endsWith('+')) found = id;
    }
    expect(found).toBeDefined();
    expect(isValidShortFormPrescriptionId(found as string)).toBe(true);
  });
});

describe('generateShortFormPrescriptionId', () => {
  it('lays out hex, the zero-padded prescriber ODS code, hex and the check character', () => {
    const random = seededRandom(42);
    for (const [ods, group] of [
      ['A83008', 'A83008'],
      ['VNE51', '0VNE51'],
      ['84H', '00084H'],
    ] as const) {
      const id = generateShortFormPrescriptionId(ods, random);
      expect(id).toMatch(new RegExp(`^[0-9A-F]{6}-${group}-[0-9A-F]{5}[0-9A-Z+]$`));
      expect(isValidShortFormPrescriptionId(id)).toBe(true);
    }
  });

  it('produces only valid, distinct IDs over a few thousand draws', () => {
    const random = seededRandom(1);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i += 1) {
      const id = generateShortFormPrescriptionId('FCG72', random);
      expect(isValidShortFormPrescriptionId(id)).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(5000);
    for (let i = 0; i < 1000; i += 1)
      expect(isValidShortFormPrescriptionId(generateShortFormPrescriptionId('A99968'))).toBe(true);
  });

  it('refuses a prescriber code that is not a well-formed ODS code', () => {
    for (const ods of ['', 'A8', 'a83008', 'A830081', 'A83-08']) {
      expect(() => generateShortFormPrescriptionId(ods)).toThrow(RangeError);
    }
  });
});
