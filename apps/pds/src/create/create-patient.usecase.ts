import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  PDS_EVENTS,
  type CreatePatientReply,
  type CreatePatientRequest,
  type Patient,
  type PatientCreatedEvent,
} from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { ReadAuditRepository, readAuditEntry } from '../audit/read-audit.repository';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { PatientRepository } from '../patients/patient.repository';
import { dryRun, isSandboxRequest, SANDBOX_ALLOCATED_NHS_NUMBER, SANDBOX_MODE } from '../sandbox/sandbox-mode';
import { lifecycleEvents } from '../patients/lifecycle-events';
import { normalisedResource, type PatientRecord } from '../patients/patient-record';
import { givenWords, normaliseName } from '../patients/search-rows';
import { PatientSearchRepository } from '../search/search.repository';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { checkNewPatient, type Demographics } from './new-patient';
import { refuseApplicationRestricted } from '../read/patient-caller';

/** What a create found: the patient it made, or the one person PDS already holds with those demographics. */
type CreateOutcome = { created: CreatePatientReply } | { match: { nhsNumber: string; restricted: boolean } };

/** A new patient's first version under the NHS number allocated to them. */
function firstVersion(nhsNumber: string, patient: Patient): PatientRecord {
  return {
    nhsNumber,
    version: 1,
    resource: { ...patient, id: nhsNumber, meta: { versionId: '1' } },
    restricted: false,
    supersededBy: null,
    invalidated: false,
  };
}

/** A sandbox create's answer: the documented NHS number, the patient as sent, version 1; nothing stored. */
function sandboxAllocation(patient: Patient): CreatePatientReply {
  const nhsNumber = SANDBOX_ALLOCATED_NHS_NUMBER;
  const record = firstVersion(nhsNumber, patient);
  return { nhsNumber, patientJson: JSON.stringify(normalisedResource(record)), versionId: 1 };
}

/** The read audit's action for the new Patient shown in the answer of a create (a GET's is `patient.read`). */
export const PATIENT_CREATE_ACTION = 'patient.create';
/** The audit trail's reason for a create answered with an existing person's NHS number. */
export const CREATE_MATCH = 'create-match';
/** ... and for one answered SINGLE_MATCH without the number, because the person is restricted. */
export const CREATE_MATCH_WITHHELD = 'create-match-withheld';

/**
 * Allocates an NHS number to a patient PDS does not hold yet. Demographics that match a record already
 * held answer SINGLE_MATCH or MULTIPLE_MATCHES (HTTP 200, as Spine) instead, so that a GP practice does
 * not give one person two numbers. Creations with the same family name and birth date queue on an advisory
 * lock, so two concurrent requests for one person cannot both pass the match. Exactly once per X-Request-ID.
 *
 * A SINGLE_MATCH names an existing person's NHS number, so it is a disclosure like a read: it is answered only
 * once its entry in the read audit trail (who, which organisation, which patient, when, why 'create-match')
 * is committed, and every answer is audited, a retry's replayed answer too. A restricted ("S-flag") person is
 * never named this way: the caller gets SINGLE_MATCH without the number (it must not allocate a second one,
 * and may trace the person by search, where Spine's rules for restricted patients apply), audited as
 * 'create-match-withheld'. The answer of a create that allocates a number shows the new Patient, so it is
 * audited the same way, as 'patient.create' (the GET's fields, a retry's replayed answer too); if that entry
 * cannot be written the patient stays created (kept for the X-Request-ID) but is not shown: the caller gets
 * REC_SERVER_ERROR and the retry is answered. A refusal (INVALID_CREATE, MULTIPLE_MATCHES) names nobody and
 * is not audited. The entry is written after the write's transaction, never inside it, on the read audit
 * writer's own connections: a create never holds a connection of the shared pool while it waits for its entry,
 * and the entry never waits for the shared pool.
 *
 * In NHS sandbox mode (a `sandbox` request) the create runs in a transaction that is rolled back: the same
 * matching (SINGLE_MATCH, MULTIPLE_MATCHES), then, for a new person, the specification's documented answer,
 * the 201 example's NHS number (SANDBOX_ALLOCATED_NHS_NUMBER) with the demographics sent, version 1, without
 * drawing on the allocation sequence (whose numbers a rollback does not give back) and without storing
 * anything, so the published example bodies are answered the same way however often they are sent.
 */
@Injectable()
export class CreatePatientUseCase {
  constructor(
    private readonly patients: PatientRepository,
    private readonly search: PatientSearchRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    private readonly audit: ReadAuditRepository,
    @Inject(PDS_DATABASE) private readonly database: PdsDatabase,
    @Inject(SANDBOX_MODE) private readonly sandboxMode: boolean,
  ) {}

  async execute(request: CreatePatientRequest, context: CallContext): Promise<CreatePatientReply> {
    refuseApplicationRestricted(context, 'create a patient');
    const { patient, demographics } = checkNewPatient(request.patient);
    const sandbox = isSandboxRequest(request, this.sandboxMode);
    const key = writeKey(context, 'patient.create', request.patient);
    const write = (work: (transaction: PoolClient) => Promise<CreateOutcome>): Promise<CreateOutcome> =>
      sandbox ? dryRun(this.database.pool, work) : this.writes.run(key, work);
    const outcome = await write(async (transaction): Promise<CreateOutcome> => {
      const family = normaliseName(demographics.family);
      await transaction.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `pds.create:${family}:${demographics.birthDate}`,
      ]);
      const known = await this.knownPatient(demographics, transaction);
      if (known) return { match: { nhsNumber: known.nhsNumber, restricted: known.restricted } };
      if (sandbox) return { created: sandboxAllocation(patient) };
      const nhsNumber = await this.patients.allocateNhsNumber(transaction);
      const record = firstVersion(nhsNumber, patient);
      await this.patients.insertNew(transaction, record);
      const occurredAt = new Date().toISOString();
      const event: PatientCreatedEvent = { nhsNumber, versionId: 1, occurredAt };
      await this.outbox.append(transaction, PDS_EVENTS.patientCreated, event, context);
      const change = { nhsNumber, versionId: 1, restricted: false, occurredAt };
      for (const { subject, payload } of lifecycleEvents(undefined, record.resource, change)) {
        await this.outbox.append(transaction, subject, payload, context);
      }
      return { created: { nhsNumber, patientJson: JSON.stringify(normalisedResource(record)), versionId: 1 } };
    });
    if ('match' in outcome) {
      const { nhsNumber, restricted } = outcome.match;
      await this.audit.record(readAuditEntry(nhsNumber, restricted ? CREATE_MATCH_WITHHELD : CREATE_MATCH, context));
      throw new PlatformError('SINGLE_MATCH', undefined, {
        diagnostics: restricted
          ? 'Unable to create new patient. A single matching record found for supplied demographic data.'
          : `Unable to create new patient. NHS number ${nhsNumber} found for supplied demographic data.`,
      });
    }
    if (!sandbox) this.outbox.kick();
    await this.audit.record(readAuditEntry(outcome.created.nhsNumber, PATIENT_CREATE_ACTION, context));
    return outcome.created;
  }

  /** The one person PDS holds with these demographics, or none; MULTIPLE_MATCHES when it holds more. */
  private async knownPatient(
    demographics: Demographics,
    transaction: PoolClient,
  ): Promise<{ nhsNumber: string; restricted: boolean } | undefined> {
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
    if (hits.length > 1) {
      throw new PlatformError('MULTIPLE_MATCHES', undefined, {
        diagnostics: 'Unable to create new patient. Multiple matches found for supplied demographic data.',
      });
    }
    return hits[0]?.patient;
  }
}
