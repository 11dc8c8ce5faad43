import { Injectable } from '@nestjs/common';
import type { PatientDocument } from '@platform/contracts-pds';
import type { CallContext } from '@platform/shared-nats';
import { PatientAccess } from './patient-access';
import { visiblePatientJson } from '../patients/patient-record';

/** Reads one patient by NHS number, as the caller may see it. */
@Injectable()
export class ReadPatientUseCase {
  constructor(private readonly access: PatientAccess) {}

  async execute(nhsNumber: string, context: CallContext): Promise<PatientDocument> {
    const record = await this.access.open(nhsNumber, 'patient.read', context);
    return { json: visiblePatientJson(record), versionId: record.version };
  }
}
