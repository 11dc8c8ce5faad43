import { Inject, Injectable } from '@nestjs/common';
import { applyPatch, JsonPatchError, type Operation } from 'fast-json-patch';
import type { PoolClient } from 'pg';
import {
  PDS_EVENTS,
  type Patient,
  type PatientDocument,
  type PatientUpdatedEvent,
  type UpdatePatientRequest,
} from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { readAuditEntry, ReadAuditRepository } from '../audit/read-audit.repository';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { PatientRepository } from '../patients/patient.repository';
import { dryRun, isSandboxRequest, SANDBOX_MODE } from '../sandbox/sandbox-mode';
import { withItemIds } from '../patients/item-ids';
import { lifecycleEvents } from '../patients/lifecycle-events';
import { normalisedResource, redacted } from '../patients/patient-record';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { changedFields, checkFields, checkPatch } from './patch-rules';
import { checkPatientUpdater, isHealthcareWriter, refuseApplicationRestricted } from '../read/patient-caller';
import { checkPatientChanges, checkPatientPatch } from './patient-access-rules';

/** The read audit's action for the Patient shown in the answer of a PATCH (a GET's is `patient.read`). */
export const PATIENT_UPDATE_ACTION = 'patient.update';

/** `W/"3"` -> 3; anything else is not a version this API issued. */
export function versionFromIfMatch(ifMatch: string): number | undefined {
  const match = /^W\/"([1-9]\d{0,9})"$/.exec(ifMatch.trim());
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Why a patch could not be applied, in words: fast-json-patch's own errors by their name (such as
 * TEST_OPERATION_FAILED) and the operation's index; anything else (a TypeError it throws for a banned
 * prototype path, say) only as "cannot be applied", never the JavaScript error's name or message.
 */
export function patchFailure(error: unknown): PlatformError {
  const reason =
    error instanceof JsonPatchError
      ? `${error.name}${error.index === undefined ? '' : ` at patch ${error.index}`}`
      : 'the patch cannot be applied to this record';
  return new PlatformError('INVALID_UPDATE', undefined, { diagnostics: `Invalid update with error - ${reason}` });
}

/**
 * Updates a patient with a JSON Patch: If-Match required and current, the NHS list and field rules, all or
 * nothing, exactly once per X-Request-ID, and a `pds.patient.updated.v1` event in the same transaction (with
 * `deceased` or `registered` when the change is a death or a new GP practice). Healthcare worker access only
 * or patient access (a patient's own record, the fields of patient-access-rules.ts); application-restricted
 * access never.
 *
 * In NHS sandbox mode (a `sandbox` request) the update is checked and applied in a transaction that is
 * rolled back: the answer is the next version, and nothing is kept. As the NHS sandbox, only the JSON Patch
 * is validated there, not the field rules on the result (removing a gender, say, is answered 200).
 *
 * Every successful answer returns the patched Patient (there is no `Prefer: return=minimal` answer without
 * it), so it is a read of the patient's record and audited as every read is: one `read_audit` row per answer
 * (`patient.update`, the GET's fields), the answer given only once the row is committed. A retry answered
 * from its X-Request-ID shows the Patient again and is audited again; a refusal shows nothing and is not. If
 * the audit cannot be written the update stays done (it is kept for its X-Request-ID) but the Patient is not
 * shown: the caller gets REC_SERVER_ERROR and the retry is answered.
 */
@Injectable()
export class UpdatePatientUseCase {
  constructor(
    private readonly patients: PatientRepository,
    private readonly audit: ReadAuditRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    @Inject(PDS_DATABASE) private readonly database: PdsDatabase,
    @Inject(SANDBOX_MODE) private readonly sandboxMode: boolean,
  ) {}

  async execute(request: UpdatePatientRequest, context: CallContext): Promise<PatientDocument> {
    const { nhsNumber, ifMatch, patches } = request;
    refuseApplicationRestricted(context, 'update a patient');
    if (!isValidNhsNumber(nhsNumber)) {
      throw new PlatformError('INVALID_RESOURCE_ID', 'Resource Id is invalid', {
        diagnostics: 'The NHS number is not 10 digits with a valid check digit',
      });
    }
    // Patient access: their own record only (refused before any lookup), and only the fields a patient may
    // update (checked on the patch's paths here and on the patched record below).
    // Anyone but a healthcare writer (clinician, practice administrator) is held to patient access, even when
    // the token also carries a care role that only reads (a pharmacist who is also a patient).
    const patient = !isHealthcareWriter(context);
    if (patient) {
      checkPatientUpdater(context, nhsNumber);
      checkPatientPatch(patches);
    }
    if (ifMatch === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: 'Invalid update with error - If-Match header must be supplied to update this resource',
      });
    }
    const expected = versionFromIfMatch(ifMatch);
    if (expected === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: `Invalid update with error - If-Match must be W/"<version>", not '${ifMatch.slice(0, 32)}'`,
      });
    }
    const sandbox = isSandboxRequest(request, this.sandboxMode);
    const key = writeKey(context, 'patient.update', { nhsNumber, ifMatch, patches });
    const write = <T>(work: (transaction: PoolClient) => Promise<T>): Promise<T> =>
      sandbox ? dryRun(this.database.pool, work) : this.writes.run(key, work);
    const document = await write(async (transaction) => {
      const record = await this.patients.lockForUpdate(transaction, nhsNumber);
      if (!record) throw new PlatformError('RESOURCE_NOT_FOUND');
      if (record.invalidated) throw new PlatformError('INVALIDATED_RESOURCE');
      if (record.supersededBy) {
        throw new PlatformError('INVALID_UPDATE', undefined, {
          diagnostics: `Invalid update with error - ${nhsNumber} has been superseded; update the surviving record`,
        });
      }
      if (record.version !== expected) {
        throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
          diagnostics: `Invalid update with error - the current version is W/"${record.version}"`,
        });
      }
      if (patient && record.restricted) {
        // A restricted (sensitive) record's locating details are hidden from every reader, the patient too: a
        // patient's patch, whose test operations would probe them, is refused whatever it holds ("updating a
        // sensitive patient ... is only permitted from certain systems").
        throw new PlatformError('FORBIDDEN_UPDATE', 'Update is forbidden', {
          diagnostics: 'Forbidden update with error - a restricted record cannot be updated in patient access',
        });
      }
      const before = JSON.parse(record.resourceJson) as Patient;
      checkPatch(patches, before);
      let after: Patient;
      try {
        after = applyPatch(structuredClone(before), patches as Operation[], true, false).newDocument;
      } catch (error) {
        throw patchFailure(error);
      }
      if (patient) checkPatientChanges(before, after);
      if (!sandbox) checkFields(before, withItemIds(after));
      const next = { ...record, version: record.version + 1, resource: after, supersededBy: null };
      await this.patients.saveVersion(transaction, next);
      const occurredAt = new Date().toISOString();
      const event: PatientUpdatedEvent = {
        nhsNumber,
        versionId: next.version,
        changed: changedFields(patches),
        occurredAt,
      };
      await this.outbox.append(transaction, PDS_EVENTS.patientUpdated, event, context);
      const change = { nhsNumber, versionId: next.version, restricted: record.restricted, occurredAt };
      for (const { subject, payload } of lifecycleEvents(before, after, change)) {
        await this.outbox.append(transaction, subject, payload, context);
      }
      const visible = normalisedResource(next);
      return { json: JSON.stringify(record.restricted ? redacted(visible) : visible), versionId: next.version };
    });
    if (!sandbox) this.outbox.kick();
    await this.audit.record(readAuditEntry(nhsNumber, PATIENT_UPDATE_ACTION, context));
    return document;
  }
}
