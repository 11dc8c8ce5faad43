import { applyPatch, type Operation } from 'fast-json-patch';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber, nhsNumberCheckDigit } from '@platform/shared-identifiers';
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
import type { SearchPatientsReply, SearchPatientsRequest } from './search';
import type { CreatePatientReply, CreatePatientRequest } from './create';
import type { UpdatePatientRequest } from './update';
import type { Coverage, CoverageReply, GetCoverageRequest, UpdateCoverageRequest } from './coverage';

/** 999 000 000n with a valid check digit (the 999 range is never allocated by PDS). */
function fakeNhsNumber(sequence: number): string {
  for (let body = 999_000_000 + sequence * 11; ; body += 1) {
    const check = nhsNumberCheckDigit(String(body));
    if (check !== null) return `${body}${check}`;
  }
}

/** An in-memory PDS for consumers' unit tests: same answers and error codes as the real client. */
export class FakePdsClient implements PdsApi {
  private readonly patients = new Map<string, Patient>();
  private readonly relatedPersons = new Map<string, RelatedPerson[]>();
  private readonly coverages = new Map<string, Coverage>();
  private allocated = 0;
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

  /** Allocates the next number of a fake range; matches nobody. */
  createPatient(request: CreatePatientRequest): Promise<CreatePatientReply> {
    this.allocated += 1;
    const nhsNumber = fakeNhsNumber(this.allocated);
    const patient = { ...request.patient, resourceType: 'Patient', id: nhsNumber, meta: { versionId: '1' } } as Patient;
    this.patients.set(nhsNumber, patient);
    return Promise.resolve({ nhsNumber, patientJson: JSON.stringify(patient), versionId: 1 });
  }

  /** Applies the patch with the same version rules as PDS (the NHS list-item rules are the service's). */
  async updatePatient(request: UpdatePatientRequest, context: CallContext): Promise<PatientDocument> {
    const { patient, versionId } = await this.getPatient(request, context);
    if (request.ifMatch === undefined) throw new PlatformError('PRECONDITION_FAILED');
    if (request.ifMatch !== `W/"${versionId}"`) throw new PlatformError('RESOURCE_VERSION_MISMATCH');
    let updated: Patient;
    try {
      updated = applyPatch(structuredClone(patient), request.patches as Operation[], true, false).newDocument;
    } catch {
      throw new PlatformError('INVALID_UPDATE');
    }
    const next = { ...updated, meta: { ...updated.meta, versionId: String(versionId + 1) } };
    this.patients.set(next.id, next);
    return { json: JSON.stringify(next), versionId: versionId + 1 };
  }

  /**
   * A simple search: patients whose family name (any case) and birth date (`eq` or none) are exactly those
   * asked for, score 1; no parameters at all is UNSUPPORTED_SERVICE. The service's other rules are its own.
   */
  searchPatients(request: SearchPatientsRequest): Promise<SearchPatientsReply> {
    const query = new URLSearchParams(request.query);
    if ([...query].length === 0) return Promise.reject(new PlatformError('UNSUPPORTED_SERVICE'));
    const family = query.get('family')?.toLowerCase();
    const birthDate = query.get('birthdate')?.replace(/^eq/, '');
    const matches = [...this.patients.values()]
      .filter(
        (patient) =>
          patient['birthDate'] === birthDate &&
          Array.isArray(patient['name']) &&
          (patient['name'] as { family?: string }[]).some((name) => name.family?.toLowerCase() === family),
      )
      .map((patient) => ({ patient, score: 1 }));
    return Promise.resolve({ matches, tooManyMatches: false });
  }

  /** The card of `subscriber:identifier`, if any; the service's other rules (audit, checks) are its own. */
  async getCoverage(request: GetCoverageRequest, context: CallContext): Promise<CoverageReply> {
    const nhsNumber = new URLSearchParams(request.query).get('subscriber:identifier') ?? '';
    const { patient, versionId } = await this.getPatient({ nhsNumber }, context);
    const coverage = this.coverages.get(patient.id);
    return { nhsNumber: patient.id, versionId, ...(coverage ? { coverage } : {}) };
  }

  /** Stores the card as sent, with the patient's version rules; the service's field rules are its own. */
  async updateCoverage(request: UpdateCoverageRequest, context: CallContext): Promise<CoverageReply> {
    const coverage = request.coverage as unknown as Coverage;
    const nhsNumber = coverage.subscriber?.identifier?.value ?? '';
    const { patient, versionId } = await this.getPatient({ nhsNumber }, context);
    if (request.ifMatch === undefined) throw new PlatformError('PRECONDITION_FAILED');
    if (request.ifMatch !== `W/"${versionId}"`) throw new PlatformError('RESOURCE_VERSION_MISMATCH');
    this.patients.set(patient.id, { ...patient, meta: { ...patient.meta, versionId: String(versionId + 1) } });
    this.coverages.set(patient.id, coverage);
    return { nhsNumber: patient.id, versionId: versionId + 1, coverage };
  }

  health(): Promise<HealthReply> {
    return Promise.resolve({ status: 'ok', service: 'pds' });
  }
}
