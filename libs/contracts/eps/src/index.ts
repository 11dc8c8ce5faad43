export { EPS_ERRORS, EPS_ISSUE_CODE_SYSTEM, EPS_OWN_ERRORS } from './errors';
export {
  EPS_EVENT_STREAM,
  EPS_EVENTS,
  EPS_QUEUE,
  EPS_SUBJECTS,
  PRESCRIPTION_STATUS,
  type PrescriptionStatus,
} from './subjects';
