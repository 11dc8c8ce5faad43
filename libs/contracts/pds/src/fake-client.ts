import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import type { PdsApi } from './client';
import type {
  GetPatientReply,
  GetPatientRequest,
  HealthReply,
  ListRelatedPersonsReply,
  ListRelatedPersonsRequest,
  Patient,
  PatientDocument,
  RelatedPerson,
} from './payloads';

/** An in-memory PDS for consumers' unit tests: same answers and error codes as the real client. */
export class FakePdsClient implements PdsApi {
  private readonly patients = new Map<string, Patient>();
  private readonly relatedPersons = new Map<string, RelatedPerson[]>();
  readonly calls: { request: GetPatientRequest; context: CallContext }[] = [];

  withPatient(patient: Patient): this {
    this.patients.set(patient.id, patient);
    return this;
  }

  getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply> {
    this.calls.push({ request, context });
    if (!isValidNhsNumber(request.nhsNumber)) return Promise.reject(new PlatformError('INVALID_RESOURCE_ID'));
    const patient = this.patients.get(request.nhsNumber);
    if (!patient) return Promise.reject(new PlatformError('RESOURCE_NOT_FOUND'));
    return Promise.resolve({ patient, versionId: Number(patient.meta.versionId) });
  }

  async getPatientDocument(request: GetPatientRequest, context: CallContext): Promise<PatientDocument> {
    const { patient, versionId } = await this.getPatient(request, context);
    return { json: JSON.stringify(patient), versionId };
  }

  withRelatedPersons(nhsNumber: string, people: RelatedPerson[]): this {
    this.relatedPersons.set(nhsNumber, people);
    return this;
  }

  async listRelatedPersons(request: ListRelatedPersonsRequest, context: CallContext): Promise<ListRelatedPersonsReply> {
    const { patient } = await this.getPatient(request, context);
    const restricted = patient.meta.security?.some((label) => label.code === 'R') ?? false;
    return { nhsNumber: patient.id, relatedPersons: restricted ? [] : (this.relatedPersons.get(patient.id) ?? []) };
  }

  health(): Promise<HealthReply> {
    return Promise.resolve({ status: 'ok', service: 'pds' });
  }
}
