export { PdsClient, type PdsApi } from './client';
export { PDS_ERRORS, type PdsErrorCode } from './errors';
export { FakePdsClient } from './fake-client';
export {
  GetPatientRequest,
  type GetPatientReply,
  type GetPatientWireReply,
  type HealthReply,
  type Patient,
  type PatientDocument,
} from './payloads';
export { PDS_QUEUE, PDS_SUBJECTS } from './subjects';
