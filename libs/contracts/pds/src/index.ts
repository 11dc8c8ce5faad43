export { PdsClient, type PdsApi } from './client';
export { PDS_ERRORS, type PdsErrorCode } from './errors';
export { FakePdsClient } from './fake-client';
export {
  GetPatientRequest,
  ListRelatedPersonsRequest,
  type GetPatientReply,
  type ListRelatedPersonsReply,
  type RelatedPerson,
  type GetPatientWireReply,
  type HealthReply,
  type Patient,
  type PatientDocument,
} from './payloads';
export { PDS_QUEUE, PDS_SUBJECTS } from './subjects';
