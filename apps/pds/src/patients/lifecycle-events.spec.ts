import { PDS_EVENTS, type Patient } from '@platform/contracts-pds';
import { lifecycleEvents } from './lifecycle-events';

const change = { nhsNumber: '9000000009', versionId: 3, restricted: false, occurredAt: '2026-11-24T12:00:00.000Z' };
const registeredAt = (ods: string): unknown[] => [
  {
    id: 'gp1',
    type: 'Organization',
    identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods },
  },
];
const patient = (fields: Record<string, unknown>): Patient =>
  ({ resourceType: 'Patient', id: '9000000009', ...fields }) as unknown as Patient;

describe('lifecycleEvents', () => {
  it('announces a death the record did not have, once', () => {
    const alive = patient({ birthDate: '1950-01-01' });
    const dead = patient({ birthDate: '1950-01-01', deceasedDateTime: '2026-11-20T10:00:00+00:00' });
    expect(lifecycleEvents(alive, dead, change)).toEqual([
      {
        subject: PDS_EVENTS.patientDeceased,
        payload: { nhsNumber: '9000000009', versionId: 3, occurredAt: change.occurredAt },
      },
    ]);
    // Correcting the date of an already notified death is an update, not a second death.
    const corrected = patient({ birthDate: '1950-01-01', deceasedDateTime: '2026-11-19T10:00:00+00:00' });
    expect(lifecycleEvents(dead, corrected, change)).toEqual([]);
  });

  it('announces a change of registered practice with both practices, and a deduction with none', () => {
    const atA = patient({ generalPractitioner: registeredAt('A83008') });
    const atB = patient({ generalPractitioner: registeredAt('b82001') });
    expect(lifecycleEvents(atA, atB, change)).toEqual([
      {
        subject: PDS_EVENTS.patientRegistered,
        payload: { ...change, practice: 'B82001', previousPractice: 'A83008' },
      },
    ]);
    expect(lifecycleEvents(atB, patient({}), change)[0]?.payload).toMatchObject({
      practice: null,
      previousPractice: 'B82001',
    });
    expect(lifecycleEvents(undefined, atA, change)[0]?.payload).toMatchObject({
      practice: 'A83008',
      previousPractice: null,
    });
    expect(
      lifecycleEvents(atA, patient({ generalPractitioner: registeredAt('A83008'), gender: 'male' }), change),
    ).toEqual([]);
  });

  it('leaves the practices of a restricted patient out', () => {
    const events = lifecycleEvents(
      patient({ generalPractitioner: registeredAt('A83008') }),
      patient({ generalPractitioner: registeredAt('B82001') }),
      { ...change, restricted: true },
    );
    expect(events).toEqual([{ subject: PDS_EVENTS.patientRegistered, payload: { ...change, restricted: true } }]);
    expect(JSON.stringify(events)).not.toMatch(/A83008|B82001/);
  });
});
