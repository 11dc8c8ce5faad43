import type { REFERRAL_STATES } from '../database/migrations/1796700000010-provider-to-action';
import { invalid } from './fhir';

export type ReferralState = (typeof REFERRAL_STATES)[number];

export const STATE_DISPLAY: Record<ReferralState, string> = {
  NOT_BOOKED: 'Not Booked',
  BOOKED: 'Booked',
  DEFERRED_TO_PROVIDER: 'Deferred to Provider',
  AWAITING_TRIAGE: 'Awaiting Triage',
  TRIAGE_RESPONSE: 'Triage Response',
  ACCEPTED: 'Accepted',
  REJECTED: 'Rejected',
  CANCELLED_REFERRAL: 'Cancelled Referral',
  APPT_CANCELLED_BY_PATIENT: 'Appointment Cancelled by Patient',
  APPT_CANCELLED_BY_PROVIDER: 'Appointment Cancelled by Provider',
  APPT_CANCELLED_BY_REFERRER: 'Appointment Cancelled by Referrer',
  DID_NOT_ATTEND: 'Did Not Attend',
  TRIAGED_PROVIDER_TO_ACTION: 'Triaged - Provider To Action',
};

/** States from which a referral still needs booking (A016 book, defer, send for triage; A031 shortlist). */
const UNBOOKED: readonly ReferralState[] = [
  'NOT_BOOKED',
  'APPT_CANCELLED_BY_PATIENT',
  'APPT_CANCELLED_BY_PROVIDER',
  'APPT_CANCELLED_BY_REFERRER',
  'REJECTED',
  'TRIAGE_RESPONSE',
  'DID_NOT_ATTEND',
];

/** Each action, and the states the NHS allows it from. */
export const ALLOWED_FROM = {
  book: UNBOOKED,
  defer: UNBOOKED,
  sendForTriage: UNBOOKED,
  changeShortlist: UNBOOKED,
  cancelAppointment: ['BOOKED'],
  accept: ['BOOKED', 'DEFERRED_TO_PROVIDER'],
  reject: ['BOOKED', 'DEFERRED_TO_PROVIDER'],
  recordReviewOutcome: ['AWAITING_TRIAGE'],
  /** A022: a referral booked into a bookable service and awaiting the provider's review. */
  cancelAppointmentActionLater: ['BOOKED'],
  cancelReferral: [
    ...UNBOOKED,
    'BOOKED',
    'DEFERRED_TO_PROVIDER',
    'AWAITING_TRIAGE',
    'ACCEPTED',
    'TRIAGED_PROVIDER_TO_ACTION',
  ],
} as const satisfies Record<string, readonly ReferralState[]>;

export type ReferralAction = keyof typeof ALLOWED_FROM;

/** INVALID_REQUEST_STATE (422) unless `action` may be taken from `state`. */
export function requireState(action: ReferralAction, state: ReferralState): void {
  if (!(ALLOWED_FROM[action] as readonly string[]).includes(state)) {
    throw invalid(`The referral is ${state}: ${action} is not allowed in that state`, 'INVALID_REQUEST_STATE');
  }
}

export function allows(action: ReferralAction, state: ReferralState): boolean {
  return (ALLOWED_FROM[action] as readonly string[]).includes(state);
}
