import { Injectable } from '@nestjs/common';
import type { ListRelatedPersonsReply } from '@platform/contracts-pds';
import type { CallContext } from '@platform/shared-nats';
import { PatientAccess } from './patient-access';
import { PatientRepository } from '../patients/patient.repository';

/** A patient's related people; none for a restricted patient (they could locate the patient). */
@Injectable()
export class ListRelatedPersonsUseCase {
  constructor(
    private readonly access: PatientAccess,
    private readonly patients: PatientRepository,
  ) {}

  async execute(nhsNumber: string, context: CallContext): Promise<ListRelatedPersonsReply> {
    const record = await this.access.open(nhsNumber, 'patient.related-person.list', context);
    const relatedPersons = record.restricted ? [] : await this.patients.relatedPersons(record.nhsNumber);
    return { nhsNumber: record.nhsNumber, relatedPersons };
  }
}
