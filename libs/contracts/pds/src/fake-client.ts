import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import type { PdsApi } from './client';
import type { GetPatientReply, GetPatientRequest, HealthReply, Patient } from './payloads';

/** An in-memory PDS for consumers' unit tests: same answers and error codes as the real client. */
export class FakePdsClient implements PdsApi {
  private readonly patients = new Map<string, Patient>();
  readonly calls: { request: GetPatientRequest; context: CallContext }[] = [];

  withPatient(patient: Patient): this {
    this.patients.set(patient.id, patient);
    return this;
  }

  async getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply> {
    this.calls.push({ request, context });
    if (!/^\d{10}$/.test(request.nhsNumber)) throw new PlatformError('INVALID_RESOURCE_ID');
    const patient = this.patients.get(request.nhsNumber);
    if (!patient) throw new PlatformError('RESOURCE_NOT_FOUND');
    return { patient, versionId: Number(patient.meta.versionId) };
  }

  async health(): Promise<HealthReply> {
    return { status: 'ok', service: 'pds' };
  }
}
