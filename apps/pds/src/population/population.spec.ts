import { isValidNhsNumber } from '@platform/shared-identifiers';
import { copyArray, copyField } from '@platform/shared-persistence';
import { COPY_COLUMNS, copyLines } from './copy-rows';
import { GENERATED_NHS_NUMBER_PREFIXES, PopulationGenerator, type GeneratedPatient } from './population';

function generate(count: number, seed: number): GeneratedPatient[] {
  const generator = new PopulationGenerator(seed);
  return Array.from({ length: count }, () => generator.next());
}

describe('the population generator', () => {
  const population = generate(20_000, 7);
  const share = (predicate: (patient: GeneratedPatient) => boolean): number =>
    population.filter(predicate).length / population.length;
  const names = (patient: GeneratedPatient): { use: string; family: string }[] =>
    patient.resource['name'] as { use: string; family: string }[];

  it('is deterministic for a seed, and different for another', () => {
    expect(generate(500, 7)).toEqual(population.slice(0, 500));
    expect(generate(50, 8).map((patient) => patient.nhsNumber)).not.toEqual(
      population.slice(0, 50).map((patient) => patient.nhsNumber),
    );
  });

  it('gives every record a unique, valid NHS number of its own range', () => {
    const numbers = population.map((patient) => patient.nhsNumber);
    expect(new Set(numbers).size).toBe(numbers.length);
    const ofItsRange = (number: string): boolean =>
      GENERATED_NHS_NUMBER_PREFIXES.some((prefix) => number.startsWith(prefix));
    expect(numbers.every((number) => isValidNhsNumber(number) && ofItsRange(number))).toBe(true);
    expect(new Set(numbers.map((number) => number.slice(0, 2)))).toEqual(new Set(GENERATED_NHS_NUMBER_PREFIXES));
    expect(population.every((patient) => patient.resource.id === patient.nhsNumber)).toBe(true);
  });

  it('has restricted, deceased, superseded records and previous names and addresses in the shares asked for', () => {
    expect(share((patient) => patient.restricted)).toBeGreaterThan(0.003);
    expect(share((patient) => patient.restricted)).toBeLessThan(0.008);
    expect(share((patient) => 'deceasedDateTime' in patient.resource)).toBeGreaterThan(0.006);
    expect(share((patient) => 'deceasedDateTime' in patient.resource)).toBeLessThan(0.015);
    expect(share((patient) => patient.supersededBy !== null)).toBeGreaterThan(0.001);
    expect(share((patient) => patient.supersededBy !== null)).toBeLessThan(0.004);
    expect(share((patient) => names(patient).some((name) => name.use === 'old'))).toBeGreaterThan(0.08);
    expect(share((patient) => names(patient).some((name) => name.use === 'old'))).toBeLessThan(0.12);
    const previousAddress = (patient: GeneratedPatient): boolean =>
      (patient.resource['address'] as { use: string }[]).some((address) => address.use === 'old');
    expect(share(previousAddress)).toBeGreaterThan(0.12);
  });

  it('merges each superseded record into the record just before it, with the same demographics', () => {
    population.forEach((patient, index) => {
      if (patient.supersededBy === null) return;
      const survivor = population[index - 1];
      expect(survivor?.nhsNumber).toBe(patient.supersededBy);
      expect(patient.resource['name']).toEqual(survivor?.resource['name']);
      expect(patient.resource['birthDate']).toBe(survivor?.resource['birthDate']);
    });
  });

  it('follows UK name frequencies: Smith is the commonest surname, and phonetic variants exist', () => {
    const counts = new Map<string, number>();
    for (const patient of population) {
      const family = names(patient).find((name) => name.use === 'usual')?.family ?? '';
      counts.set(family, (counts.get(family) ?? 0) + 1);
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    expect(ranked[0]).toBe('Smith');
    expect(ranked.slice(0, 5)).toContain('Jones');
    expect(counts.get('Smyth') ?? 0).toBeGreaterThan(0);
    expect(counts.size).toBeGreaterThan(500);
  });

  it('writes normalised resources with plausible postcodes, dates and restricted labels', () => {
    for (const patient of population.slice(0, 2000)) {
      const { resource } = patient;
      expect(resource.meta.versionId).toBe(String(patient.version));
      expect(resource.meta.security?.[0]?.code).toBe(patient.restricted ? 'R' : 'U');
      expect(resource['birthDate']).toMatch(/^(19|20)\d\d-\d\d-\d\d$/);
      for (const address of resource['address'] as { postalCode: string }[]) {
        expect(address.postalCode).toMatch(/^[A-Z]{1,2}\d{1,2} \d[ABDEFGHJLNPQRSTUWXYZ]{2}$/);
      }
    }
  });
});

describe('COPY rows', () => {
  it('escapes text and arrays as COPY text format wants them', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('a\tb\nc\\d')).toBe('a\\tb\\nc\\\\d');
    expect(copyArray([])).toBe('{}');
    expect(copyArray(['Mary Ann', 'O"Neil', 'back\\slash'])).toBe('{"Mary Ann","O\\\\"Neil","back\\\\\\\\slash"}');
  });

  it('writes one patient line and a line per name and address, from the same derivation as every write', () => {
    const [patient] = generate(1, 3);
    const lines = copyLines(patient);
    expect(lines.patient.split('\t')).toHaveLength(COPY_COLUMNS.patient.length);
    expect(lines.patient.startsWith(`${patient?.nhsNumber}\t`)).toBe(true);
    expect(lines.patient_name.trim().split('\n')).toHaveLength((patient?.resource['name'] as unknown[]).length);
    expect(lines.patient_address.trim().split('\n')).toHaveLength((patient?.resource['address'] as unknown[]).length);
    expect(lines.patient_name.split('\n')[0]?.split('\t')).toHaveLength(8);
  });
});
