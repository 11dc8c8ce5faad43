import {
  PDS_EVENTS,
  type Patient,
  type PatientDeceasedEvent,
  type PatientRegisteredEvent,
} from '@platform/contracts-pds';
import { gpOdsOf } from './search-rows';

/** An event to append to the outbox in the transaction of the change. */
export interface LifecycleEvent {
  subject: string;
  payload: PatientDeceasedEvent | PatientRegisteredEvent;
}

/**
 * The events other services follow (BRIEF 4.1: registrations and deaths), read off a change from `before`
 * (undefined for a new record) to `after`: a date of death that was not there, and a change of registered
 * GP practice.
 */
export function lifecycleEvents(
  before: Patient | undefined,
  after: Patient,
  change: { nhsNumber: string; versionId: number; restricted: boolean; occurredAt: string },
): LifecycleEvent[] {
  const { nhsNumber, versionId, restricted, occurredAt } = change;
  const events: LifecycleEvent[] = [];
  if (after['deceasedDateTime'] !== undefined && before?.['deceasedDateTime'] === undefined) {
    events.push({ subject: PDS_EVENTS.patientDeceased, payload: { nhsNumber, versionId, occurredAt } });
  }
  const previousPractice = before ? gpOdsOf(before) : null;
  const practice = gpOdsOf(after);
  if (practice !== previousPractice) {
    events.push({
      subject: PDS_EVENTS.patientRegistered,
      payload: restricted
        ? { nhsNumber, versionId, restricted, occurredAt }
        : { nhsNumber, versionId, practice, previousPractice, restricted, occurredAt },
    });
  }
  return events;
}
