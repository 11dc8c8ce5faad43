// Checks the validators against every identifier in the NHS reference payloads (../shared/reference beside the
// repository; override with PLATFORM_REFERENCE_DIR). The files are NHS England's own examples, so a validator
// that rejects one of them, or accepts the one published as an invalid checksum, is wrong.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { referencePath } from '@platform/shared-testing';
import { isValidNhsNumber } from './nhs-number';
import { isWellFormedOdsCode } from './ods-code';
import { PRESCRIPTION_CHECK_ALPHABET, isValidShortFormPrescriptionId } from './prescription-id';
import { isWellFormedUbrn } from './ubrn';

const referenceDir = referencePath();
/** The one published example whose short-form ID deliberately carries a wrong check character. */
const INVALID_CHECKSUM_EXAMPLE = 'eps-gp2gp/eps/errors/1-Process-Request-Send-400_INVALID_CHECKSUM.json';
/**
 * NHS numbers in the GP2GP requesting adaptor's expected bundles that fail modulus 11 (the adaptor's tests use
 * made-up numbers and never validate them). Our validator must reject them; GP2GP fixtures built on these
 * bundles need valid numbers instead.
 */
const INVALID_NHS_NUMBERS_PUBLISHED = [
  'eps-gp2gp/gp2gp/requesting-adaptor/large-message/expectedBundleScenario1.json: 7066675393',
  'eps-gp2gp/gp2gp/requesting-adaptor/large-message/expectedBundleScenario3.json: 5514443532',
  'eps-gp2gp/gp2gp/requesting-adaptor/large-message/expectedBundleScenario4.json: 0642527301',
];
/** A short-form ID anywhere in a file (JSON, or the HL7 V3 XML the EPS examples convert to). */
const SHORT_FORM_IN_TEXT = /(?<![0-9A-Za-z+-])[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}[0-9A-Z+](?![0-9A-Za-z+-])/g;

interface Found {
  file: string;
  value: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return /\.(json|xml)$/.test(entry.name) ? [full] : [];
  });
}

/** Every FHIR Identifier-shaped object ({system, value}) in a parsed JSON document. */
function identifiers(
  node: unknown,
  out: { system: string; value: string }[] = [],
): { system: string; value: string }[] {
  if (Array.isArray(node)) {
    for (const item of node) identifiers(item, out);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record['system'] === 'string' && typeof record['value'] === 'string') {
      out.push({ system: record['system'], value: record['value'] });
    }
    for (const child of Object.values(record)) identifiers(child, out);
  }
  return out;
}

function collect(): { bySystem: Map<string, Found[]>; shortForms: Found[] } {
  const bySystem = new Map<string, Found[]>();
  const shortForms: Found[] = [];
  for (const full of filesUnder(referenceDir)) {
    const file = path.relative(referenceDir, full).split(path.sep).join('/');
    const text = readFileSync(full, 'utf8');
    for (const match of text.matchAll(SHORT_FORM_IN_TEXT)) shortForms.push({ file, value: match[0] });
    if (!full.endsWith('.json')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue; // a few GP2GP fixtures are templates with placeholders, not JSON
    }
    for (const { system, value } of identifiers(parsed)) {
      const key = system.toLowerCase().replace(/^.*\/id\//, '');
      bySystem.set(key, [...(bySystem.get(key) ?? []), { file, value }]);
    }
  }
  return { bySystem, shortForms };
}

describe(`identifiers in the NHS reference payloads (${referenceDir})`, () => {
  let bySystem: Map<string, Found[]>;
  let shortForms: Found[];

  beforeAll(() => {
    if (!existsSync(referenceDir)) {
      throw new Error(`reference payloads not found at ${referenceDir}; set PLATFORM_REFERENCE_DIR`);
    }
    ({ bySystem, shortForms } = collect());
  });

  const invalid = (found: Found[], valid: (value: string) => boolean): string[] =>
    found.filter(({ value }) => !valid(value)).map(({ file, value }) => `${file}: ${value}`);

  it('finds the short-form prescription IDs of the EPS examples, including A0548B-A99968-451485', () => {
    const values = new Set(shortForms.map(({ value }) => value));
    expect(values.size).toBeGreaterThanOrEqual(15);
    expect(values).toContain('A0548B-A99968-451485');
    expect(values).toContain('24F5DA-A83008-7EFE6Z');
  });

  it('validates every short-form prescription ID except the published INVALID_CHECKSUM example', () => {
    const published = shortForms.filter(({ file }) => file !== INVALID_CHECKSUM_EXAMPLE);
    expect(invalid(published, isValidShortFormPrescriptionId)).toEqual([]);
  });

  it('rejects the short-form ID of the INVALID_CHECKSUM example', () => {
    const bad = shortForms.filter(({ file }) => file === INVALID_CHECKSUM_EXAMPLE);
    expect(bad.length).toBeGreaterThan(0);
    for (const { value } of bad) expect(isValidShortFormPrescriptionId(value)).toBe(false);
  });

  it('rejects every published short-form ID with any one character altered', () => {
    const published = new Set(
      shortForms.filter(({ file }) => file !== INVALID_CHECKSUM_EXAMPLE).map(({ value }) => value),
    );
    const accepted: string[] = [];
    for (const id of published) {
      for (let position = 0; position < id.length; position += 1) {
        if (id[position] === '-') continue;
        for (const char of PRESCRIPTION_CHECK_ALPHABET) {
          if (char === id[position]) continue;
          const altered = `${id.slice(0, position)}${char}${id.slice(position + 1)}`;
          if (isValidShortFormPrescriptionId(altered)) accepted.push(altered);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('finds every prescription-order-number identifier among the IDs scanned', () => {
    const orderNumbers = bySystem.get('prescription-order-number') ?? [];
    expect(orderNumbers.length).toBeGreaterThan(50);
    const scanned = new Set(shortForms.map(({ file, value }) => `${file} ${value}`));
    expect(orderNumbers.filter(({ file, value }) => !scanned.has(`${file} ${value}`))).toEqual([]);
  });

  it('validates every NHS number identifier (PDS, e-RS, EPS and GP2GP examples) except three made-up GP2GP ones', () => {
    const nhsNumbers = bySystem.get('nhs-number') ?? [];
    expect(nhsNumbers.length).toBeGreaterThan(100);
    expect(invalid(nhsNumbers, isValidNhsNumber).sort()).toEqual(INVALID_NHS_NUMBERS_PUBLISHED);
  });

  it('finds every ODS organisation and site code well-formed', () => {
    const codes = [...(bySystem.get('ods-organization-code') ?? []), ...(bySystem.get('ods-site-code') ?? [])];
    expect(codes.length).toBeGreaterThan(100);
    expect(invalid(codes, isWellFormedOdsCode)).toEqual([]);
  });

  it('finds every UBRN identifier well-formed', () => {
    const ubrns = bySystem.get('ubrn') ?? [];
    expect(ubrns.length).toBeGreaterThan(0);
    expect(invalid(ubrns, isWellFormedUbrn)).toEqual([]);
  });
});
