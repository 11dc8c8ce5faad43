export { EReferralsClient, type EReferralsApi } from './client';
export { BUSINESS_FUNCTION_HEADER } from './headers';
export {
  BUSINESS_FUNCTION_CODES,
  BUSINESS_FUNCTION_SYSTEM,
  BUSINESS_FUNCTIONS,
  businessFunctionsOf,
  PROVIDER_FUNCTIONS,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
  ROLE_BUSINESS_FUNCTIONS,
  type BusinessFunction,
} from './business-functions';
export { ERS_CODE_SYSTEM, ERS_ERRORS, ERS_OWN_ERRORS, type EReferralsErrorCode } from './errors';
export type { ReferralEvent } from './events';
export { FakeEReferralsClient } from './fake-client';
export {
  ChangeRequest,
  ERS_ENCODING_HEADER,
  ERS_LOCATION_HEADER,
  ERS_VERSION_HEADER,
  ON_BEHALF_OF_MAX_LENGTH,
  plainQueryRequest,
  plainResourceRequest,
  QueryRequest,
  ReadRequest,
  ResourceRequest,
  type FhirDocument,
  type FhirReply,
  type FhirResource,
} from './payloads';
export { ERS_PROVIDERS, ERS_PUBLISHERS, ERS_REFERRERS, ERS_SUBJECT_POLICIES, ERS_USERS } from './policy';
export { ERS_EVENT_STREAM, ERS_EVENTS, ERS_QUEUE, ERS_SUBJECTS } from './subjects';
export { worklistBody, worklistResource, type WorklistReply, type WorklistRow } from './worklist';
export * from './patient';
export * from './letters';
export * from './attachments';
export * from './advice';
export * from './shortlist';
