export { EpsClient, type EpsApi } from './client';
export { CANCELLATION_CODE_SYSTEM, EPS_ERRORS, EPS_ISSUE_CODE_SYSTEM, EPS_OWN_ERRORS } from './errors';
export {
  CreatePrescriptionRequest,
  GetPrescriptionRequest,
  PharmacyRequest,
  PrepareRequest,
  RegisterPrescriberKeyRequest,
  ReleaseRequest,
  ReturnRequest,
  type CreatePrescriptionReply,
  type FhirResource,
  type PrescriptionEvent,
  type PrescriptionEventMessage,
  type PrescriberKeyRegisteredMessage,
  type PrescriptionTracking,
  type RegisterPrescriberKeyReply,
} from './payloads';
export {
  EPS_EVENT_STREAM,
  EPS_EVENTS,
  EPS_QUEUE,
  EPS_SUBJECTS,
  PRESCRIPTION_STATUS,
  type PrescriptionStatus,
} from './subjects';
export { contentDigest, signatureXml, signDigest, signedInfoXml, withSignature } from './sign';
export { messageEventOf } from './message';
export { EPS_SUBJECT_POLICIES } from './policy';
