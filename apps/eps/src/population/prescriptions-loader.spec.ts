import { isValidShortFormPrescriptionId } from '@platform/shared-identifiers';
import type { Bundle } from '../shared/fhir';
import { readPrescriptionOrder } from '../prescribing/prescription-order';
import { generatedShortFormId, prescriptionBundle } from './prescriptions-loader';

describe('generated prescription IDs', () => {
  it('are valid short-form IDs (check character included) and never repeat', () => {
    const ids = [0, 1, 0xfffff, 0x100000, 999_999, 19_999_999].map(generatedShortFormId);
    expect(ids.every(isValidShortFormPrescriptionId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(generatedShortFormId(0)).toMatch(/^E00000-A83008-00000.$/);
  });
});

describe('the generated prescription Bundle', () => {
  it('keeps every prescription-order rule', () => {
    const bundle = prescriptionBundle(
      generatedShortFormId(7),
      '00000000-0000-4000-8000-000000000007',
      '9000000009',
      'VNE51',
    );
    expect(readPrescriptionOrder(bundle as unknown as Bundle)).toMatchObject({
      shortFormId: generatedShortFormId(7),
      patientNhsNumber: '9000000009',
      nominatedPharmacy: 'VNE51',
      prescriber: { sdsUserId: '555086689106', odsCode: 'A83008' },
    });
  });
});
