import { Injectable } from '@nestjs/common';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { readAuditEntry, ReadAuditRepository } from '../audit/read-audit.repository';
import { PatientRepository } from '../patients/patient.repository';
import { checkOwnRecord } from './patient-caller';
import { MAX_SUPERSEDED_HOPS, type StoredPatient } from '../patients/patient-record';

/**
 * The way into one patient's record for every read: a bad check digit is refused before any lookup, every
 * lookup is audited (the read waits until its audit entry is committed), superseded numbers lead to the
 * surviving record, and unknown or invalidated records are refused with the Spine codes. A patient (patient
 * access) opens only their own record, refused before any lookup.
 */
@Injectable()
export class PatientAccess {
  constructor(
    private readonly patients: PatientRepository,
    private readonly audit: ReadAuditRepository,
  ) {}

  /**
   * `options.sandbox`: an NHS sandbox request, open access as the NHS sandbox ("does not allow you to test
   * authorisation"), so whose record it is is not checked (only a gateway in sandbox mode marks one).
   */
  async open(
    nhsNumber: string,
    action: string,
    context: CallContext,
    options: { sandbox?: boolean } = {},
  ): Promise<StoredPatient> {
    if (!isValidNhsNumber(nhsNumber)) {
      throw new PlatformError('INVALID_RESOURCE_ID', 'Resource Id is invalid', {
        diagnostics: 'The NHS number is not 10 digits with a valid check digit',
      });
    }
    if (options.sandbox !== true) checkOwnRecord(context, nhsNumber);
    // The row and the audit entry in one statement: the record is not answered before its access is committed.
    let record = await this.audit.recordRead(readAuditEntry(nhsNumber, action, context));
    // Superseded numbers lead to the surviving record.
    for (let hop = 0; record?.supersededBy && hop < MAX_SUPERSEDED_HOPS; hop += 1) {
      record = await this.patients.findByNhsNumber(record.supersededBy);
    }
    if (!record) throw new PlatformError('RESOURCE_NOT_FOUND');
    if (record.invalidated) throw new PlatformError('INVALIDATED_RESOURCE');
    return record;
  }
}
