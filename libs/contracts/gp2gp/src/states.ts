/**
 * Transfer states, as the NHS GP2GP requesting adaptor names them (MigrationStatus). A transfer moves only
 * forwards through them; the error states and MIGRATION_COMPLETED are final (an operator's resend starts a
 * failed one again from EHR_EXTRACT_REQUEST_ACCEPTED).
 */
export const TRANSFER_STATES = [
  'REQUEST_RECEIVED',
  'EHR_EXTRACT_REQUEST_ACCEPTED',
  'EHR_EXTRACT_RECEIVED',
  'CONTINUE_REQUEST_ACCEPTED',
  'COPC_MESSAGE_RECEIVED',
  'EHR_EXTRACT_TRANSLATED',
  'FINAL_ACK_SENT',
  'MIGRATION_COMPLETED',
  'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
  'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
  'EHR_GENERAL_PROCESSING_ERROR',
  'ERROR_LRG_MSG_REASSEMBLY_FAILURE',
  'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
  'ERROR_LRG_MSG_GENERAL_FAILURE',
  'ERROR_REQUEST_TIMEOUT',
] as const;
export type TransferState = (typeof TRANSFER_STATES)[number];

/** States in which the platform still has work to do (the worker picks these up). */
export const WORKING_STATES: readonly TransferState[] = [
  'REQUEST_RECEIVED',
  'EHR_EXTRACT_REQUEST_ACCEPTED',
  'EHR_EXTRACT_RECEIVED',
  'CONTINUE_REQUEST_ACCEPTED',
  'COPC_MESSAGE_RECEIVED',
];

/** The record is ready for the requesting practice, waiting for its final acknowledgement. */
export const AWAITING_ACK_STATE: TransferState = 'EHR_EXTRACT_TRANSLATED';

export const ERROR_STATES: readonly TransferState[] = [
  'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
  'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
  'EHR_GENERAL_PROCESSING_ERROR',
  'ERROR_LRG_MSG_REASSEMBLY_FAILURE',
  'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
  'ERROR_LRG_MSG_GENERAL_FAILURE',
  'ERROR_REQUEST_TIMEOUT',
];

/**
 * GP2GP reason codes (the codes of negative acknowledgements, code system 2.16.840.1.113883.2.1.3.2.4.17.101),
 * with the state a transfer failing with each ends in and the HTTP status the requesting API answers.
 */
export const REASON_CODE_SYSTEM = '2.16.840.1.113883.2.1.3.2.4.17.101';
export const REASONS = {
  '06': { display: 'Patient not at surgery.', state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK', httpStatus: 404 },
  '07': {
    display: 'GP2GP messaging is not enabled on this system.',
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 501,
  },
  '10': {
    display: 'Failed to successfully generate EHR Extract.',
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 500,
  },
  '11': {
    display: 'Failed to successfully integrate EHR Extract.',
    state: 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
    httpStatus: 409,
  },
  '12': {
    display: 'Duplicate EHR Extract received.',
    state: 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
    httpStatus: 409,
  },
  '17': {
    display: 'A-B-A EHR Extract Received and rejected due to wrong record or wrong patient.',
    state: 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
    httpStatus: 409,
  },
  '18': {
    display: 'Request message not well-formed or not able to be processed.',
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 400,
  },
  '19': {
    display: "Sender check indicates that Requestor is not the patient's current healthcare provider.",
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 403,
  },
  '20': {
    display: 'Spine system responded with an error.',
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 502,
  },
  '21': {
    display: 'EHR Extract message not well-formed or not able to be processed.',
    state: 'EHR_GENERAL_PROCESSING_ERROR',
    httpStatus: 502,
  },
  '24': {
    display: 'SDS lookup provided zero or more than one result to the query for each interaction.',
    state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    httpStatus: 404,
  },
  '25': {
    display: 'Large messages rejected due to timeout duration reached of overall transfer.',
    state: 'ERROR_LRG_MSG_GENERAL_FAILURE',
    httpStatus: 504,
  },
  '28': {
    display: 'Non A-B-A EHR Extract Received and rejected due to wrong record or wrong patient.',
    state: 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
    httpStatus: 409,
  },
  '29': { display: 'Large Message Re-assembly failure.', state: 'ERROR_LRG_MSG_REASSEMBLY_FAILURE', httpStatus: 500 },
  '30': { display: 'Large Message general failure.', state: 'ERROR_LRG_MSG_GENERAL_FAILURE', httpStatus: 500 },
  '31': {
    display:
      'The overall EHR Extract has been rejected because one or more attachments via Large Messages were not received.',
    state: 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
    httpStatus: 500,
  },
  '99': { display: 'Unexpected condition.', state: 'ERROR_REQUEST_TIMEOUT', httpStatus: 500 },
} as const satisfies Record<string, { display: string; state: TransferState; httpStatus: number }>;
export type ReasonCode = keyof typeof REASONS;
export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

/** Reasons a requesting practice may give in a FAILED_TO_INTEGRATE acknowledgement. */
export const INTEGRATION_FAILURE_REASONS: readonly ReasonCode[] = ['11', '12', '17', '21', '28', '99'];
