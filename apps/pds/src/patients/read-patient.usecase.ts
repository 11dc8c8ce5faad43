import { Injectable } from '@nestjs/common';
import type { PatientDocument } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { ReadAuditRepository } from '../audit/read-audit.repository';
import { PatientRepository } from './patient.repository';
import { visiblePatientJson, type StoredPatient } from './patient-record';

const MAX_SUPERSEDED_HOPS = 5;

/**
 * Reads one patient by NHS number. A bad check digit is refused before any lookup; every lookup is
 * audited, and the answer waits for the audit entry to be committed.
 */
@Injectable()
export class ReadPatientUseCase {
  constructor(
    private readonly patients: PatientRepository,
    private readonly audit: ReadAuditRepository,
  ) {}

  async execute(nhsNumber: string, context: CallContext): Promise<PatientDocument> {
    if (!isValidNhsNumber(nhsNumber)) {
      throw new PlatformError('INVALID_RESOURCE_ID', 'Resource Id is invalid', {
        diagnostics: 'The NHS number is not 10 digits with a valid check digit',
      });
    }
    const caller = context.caller;
    const [record] = await Promise.all([
      this.resolve(nhsNumber),
      this.audit.record({
        at: new Date(),
        nhsNumber,
        action: 'patient.read',
        actorId: caller?.id ?? 'anonymous',
        actorUsername: caller?.username,
        clientId: caller?.clientId,
        organisation: caller?.organisation,
        roles: caller?.roles ?? [],
        requestId: context.requestId,
        correlationId: context.correlationId,
      }),
    ]);
    if (!record) throw new PlatformError('RESOURCE_NOT_FOUND');
    if (record.invalidated) throw new PlatformError('INVALIDATED_RESOURCE');
    return { json: visiblePatientJson(record), versionId: record.version };
  }

  /** Follows superseded NHS numbers to the surviving record. */
  private async resolve(nhsNumber: string): Promise<StoredPatient | undefined> {
    let record = await this.patients.findByNhsNumber(nhsNumber);
    for (let hop = 0; record?.supersededBy && hop < MAX_SUPERSEDED_HOPS; hop += 1) {
      record = await this.patients.findByNhsNumber(record.supersededBy);
    }
    return record;
  }
}
