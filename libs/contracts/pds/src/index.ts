export { PdsClient, type PdsApi } from './client';
export {
  MAX_SEARCH_RESULTS,
  PDS_SEARCH_ERRORS,
  SearchPatientsRequest,
  singleMatchQuery,
  type PatientSearchMatch,
  type SearchPatientsReply,
} from './search';
export { patientSearchsetProblems } from './searchset-shape';
export { PDS_ERRORS, PDS_OWN_ERRORS, type PdsErrorCode } from './errors';
export { FakePdsClient } from './fake-client';
export {
  GetPatientRequest,
  ListRelatedPersonsRequest,
  PATIENT_VERSION_HEADER,
  plainGetPatientRequest,
  type GetPatientReply,
  type ListRelatedPersonsReply,
  type RelatedPerson,
  type GetPatientWireReply,
  type HealthReply,
  type Patient,
  type PatientDocument,
} from './payloads';
export { PDS_EVENT_STREAM, PDS_EVENTS, PDS_QUEUE, PDS_SUBJECTS } from './subjects';
export { PATCH_OPERATIONS, PatchOperation, UpdatePatientRequest, isPatchOperation } from './update';
export { CreatePatientRequest, type CreatePatientReply } from './create';
export type { PatientCreatedEvent, PatientDeceasedEvent, PatientRegisteredEvent, PatientUpdatedEvent } from './events';
export { PDS_READERS, PDS_SUBJECT_POLICIES, PDS_WRITERS } from './policy';
export { GetCoverageRequest, UpdateCoverageRequest, type Coverage, type CoverageReply } from './coverage';
