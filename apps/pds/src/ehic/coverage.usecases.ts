import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  PDS_EVENTS,
  type CoverageReply,
  type GetCoverageRequest,
  type Patient,
  type PatientUpdatedEvent,
  type UpdateCoverageRequest,
} from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { readAuditEntry, ReadAuditRepository } from '../audit/read-audit.repository';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { PatientRepository } from '../patients/patient.repository';
import { PatientAccess } from '../read/patient-access';
import { checkPatientAccess, checkPatientAccessMode } from '../read/patient-caller';
import { dryRun, isSandboxRequest, SANDBOX_MODE } from '../sandbox/sandbox-mode';
import { versionFromIfMatch } from '../update/update-patient.usecase';
import { checkCoverage, shownCoverage, subscriberOf } from './coverage-rules';
import { CoverageRepository } from './coverage.repository';

const SUBSCRIBER = 'subscriber:identifier';
/** The read audit's action for the card shown in the answer of a POST /Coverage (a GET's is `patient.coverage.read`). */
export const COVERAGE_WRITE_ACTION = 'patient.coverage.update';

function searchFormat(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_SEARCH_DATA', undefined, {
    diagnostics: `Invalid search data provided - '${diagnostics}'`,
  });
}

/** `subscriber:identifier=<NHS number>` and nothing else, as the specification's one Coverage search. */
export function coverageSubscriber(query: string): string {
  const pairs = [...new URLSearchParams(query)];
  if (pairs.length === 0) {
    throw new PlatformError('MISSING_VALUE', undefined, { diagnostics: `Missing value - '${SUBSCRIBER}'` });
  }
  const [first] = pairs;
  if (pairs.length > 1 || first?.[0] !== SUBSCRIBER) {
    throw searchFormat('Coverage search request must follow the format /Coverage?subscriber:identifier=NHS_NUMBER');
  }
  return first[1];
}

/**
 * A patient's EHIC card (GET /Coverage): patient access only (anyone else 403 ACCESS_DENIED before the query
 * is read), then opened as every read is (check digit, a patient only their own, audited as
 * `patient.coverage.read`, superseded numbers to the surviving record, unknown and invalidated refused).
 * The card holds no locating details, so a restricted patient's is shown as it is; the reply's version is the
 * patient's, for the If-Match of a POST. A sandbox request is open access, as the NHS sandbox.
 */
@Injectable()
export class GetCoverageUseCase {
  constructor(
    private readonly access: PatientAccess,
    private readonly coverages: CoverageRepository,
    @Inject(SANDBOX_MODE) private readonly sandboxMode: boolean,
  ) {}

  async execute(request: GetCoverageRequest, context: CallContext): Promise<CoverageReply> {
    const sandbox = isSandboxRequest(request, this.sandboxMode);
    if (!sandbox) checkPatientAccessMode(context);
    const nhsNumber = coverageSubscriber(request.query);
    const record = await this.access.open(nhsNumber, 'patient.coverage.read', context, { sandbox });
    const coverage = shownCoverage(await this.coverages.coverageOf(record.nhsNumber));
    return { nhsNumber: record.nhsNumber, versionId: record.version, ...(coverage ? { coverage } : {}) };
  }
}

/**
 * Replaces a patient's EHIC card (POST /Coverage): the body checked against the specification, If-Match on
 * the patient's version, the card and the patient's next version written together with a
 * `pds.patient.updated.v1` event (changed: coverage) in one transaction, exactly once per X-Request-ID;
 * patient access only, a patient's own card (anyone else 403 ACCESS_DENIED before the body is read). In NHS
 * sandbox mode the same, open access, rolled back.
 *
 * The answer shows the card, so it is a read of the patient's record and audited as every read is: one
 * `read_audit` row per answer (`patient.coverage.update`, the GET's fields), the answer given only once the
 * row is committed. A retry answered from its X-Request-ID shows the card again and is audited again; a
 * refusal shows nothing and is not. If the audit cannot be written the write stays done (it is kept for its
 * X-Request-ID) but its card is not shown: the caller gets REC_SERVER_ERROR and the retry is answered.
 */
@Injectable()
export class UpdateCoverageUseCase {
  constructor(
    private readonly patients: PatientRepository,
    private readonly coverages: CoverageRepository,
    private readonly audit: ReadAuditRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    @Inject(PDS_DATABASE) private readonly database: PdsDatabase,
    @Inject(SANDBOX_MODE) private readonly sandboxMode: boolean,
  ) {}

  async execute(request: UpdateCoverageRequest, context: CallContext): Promise<CoverageReply> {
    const sandbox = isSandboxRequest(request, this.sandboxMode);
    if (!sandbox) checkPatientAccessMode(context);
    const body = request.coverage;
    const nhsNumber = subscriberOf(body);
    if (!sandbox) checkPatientAccess(context, nhsNumber);
    if (request.ifMatch === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: 'Invalid update with error - If-Match header must be supplied to update this resource',
      });
    }
    const expected = versionFromIfMatch(request.ifMatch);
    if (expected === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: `Invalid update with error - If-Match must be W/"<version>", not '${request.ifMatch.slice(0, 32)}'`,
      });
    }
    const coverage = checkCoverage(body);
    const key = writeKey(context, 'coverage.update', { coverage: body, ifMatch: request.ifMatch });
    const write = (work: (transaction: PoolClient) => Promise<CoverageReply>): Promise<CoverageReply> =>
      sandbox ? dryRun(this.database.pool, work) : this.writes.run(key, work);
    const reply = await write(async (transaction) => {
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
      const resource = JSON.parse(record.resourceJson) as Patient;
      const next = { ...record, version: record.version + 1, resource, supersededBy: null };
      await this.patients.saveVersion(transaction, next);
      await this.coverages.replace(transaction, nhsNumber, coverage);
      const event: PatientUpdatedEvent = {
        nhsNumber,
        versionId: next.version,
        changed: ['coverage'],
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(transaction, PDS_EVENTS.patientUpdated, event, context);
      return { nhsNumber, versionId: next.version, coverage };
    });
    if (!sandbox) this.outbox.kick();
    await this.audit.record(readAuditEntry(reply.nhsNumber, COVERAGE_WRITE_ACTION, context));
    return reply;
  }
}
