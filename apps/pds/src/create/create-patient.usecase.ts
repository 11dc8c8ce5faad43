import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  PDS_EVENTS,
  type CreatePatientReply,
  type CreatePatientRequest,
  type PatientCreatedEvent,
} from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { PatientRepository } from '../patients/patient.repository';
import { lifecycleEvents } from '../patients/lifecycle-events';
import { normalisedResource, type PatientRecord } from '../patients/patient-record';
import { givenWords, normaliseName } from '../search/search-rows';
import { PatientSearchRepository } from '../search/search.repository';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { checkNewPatient, type Demographics } from './new-patient';

/**
 * Allocates an NHS number to a patient PDS does not hold yet. Demographics that match a record already
 * held answer SINGLE_MATCH or MULTIPLE_MATCHES (HTTP 200, as Spine) instead, so that a GP practice does
 * not give one person two numbers. Creations with the same family name and birth date queue on an advisory
 * lock, so two concurrent requests for one person cannot both pass the match. Exactly once per X-Request-ID.
 */
@Injectable()
export class CreatePatientUseCase {
  constructor(
    private readonly patients: PatientRepository,
    private readonly search: PatientSearchRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: CreatePatientRequest, context: CallContext): Promise<CreatePatientReply> {
    const { patient, demographics } = checkNewPatient(request.patient);
    const key = writeKey(context, 'patient.create', request.patient);
    const reply = await this.writes.run(key, async (transaction) => {
      const family = normaliseName(demographics.family);
      await transaction.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `pds.create:${family}:${demographics.birthDate}`,
      ]);
      await this.refuseKnownPatient(demographics, transaction);
      const nhsNumber = await this.patients.allocateNhsNumber(transaction);
      const record: PatientRecord = {
        nhsNumber,
        version: 1,
        resource: { ...patient, id: nhsNumber, meta: { versionId: '1' } },
        restricted: false,
        supersededBy: null,
        invalidated: false,
      };
      await this.patients.insertNew(transaction, record);
      const occurredAt = new Date().toISOString();
      const event: PatientCreatedEvent = { nhsNumber, versionId: 1, occurredAt };
      await this.outbox.append(transaction, PDS_EVENTS.patientCreated, event, context);
      const change = { nhsNumber, versionId: 1, restricted: false, occurredAt };
      for (const { subject, payload } of lifecycleEvents(undefined, record.resource, change)) {
        await this.outbox.append(transaction, subject, payload, context);
      }
      return { nhsNumber, patientJson: JSON.stringify(normalisedResource(record)), versionId: 1 };
    });
    this.outbox.kick();
    return reply;
  }

  private async refuseKnownPatient(demographics: Demographics, transaction: PoolClient): Promise<void> {
    const hits = await this.search.search(
      {
        family: { value: normaliseName(demographics.family) },
        given: demographics.given ? givenWords([demographics.given]).map((value) => ({ value })) : [],
        gender: demographics.gender,
        birthDate: { from: demographics.birthDate, to: demographics.birthDate },
        fuzzy: false,
        exact: true,
        history: true,
        maxResults: 2,
      },
      transaction,
    );
    const [first] = hits;
    if (hits.length === 1 && first) {
      throw new PlatformError('SINGLE_MATCH', undefined, {
        diagnostics: `Unable to create new patient. NHS number ${first.patient.nhsNumber} found for supplied demographic data.`,
      });
    }
    if (hits.length > 1) {
      throw new PlatformError('MULTIPLE_MATCHES', undefined, {
        diagnostics: 'Unable to create new patient. Multiple matches found for supplied demographic data.',
      });
    }
  }
}
