import { allows, ALLOWED_FROM, requireState, STATE_DISPLAY, type ReferralState } from './states';
import { REFERRAL_STATES } from '../database/migrations/1796500000000-referrals';

describe('referral states and transitions', () => {
  it('names every state the NHS names, with a display each', () => {
    for (const state of [
      'NOT_BOOKED',
      'BOOKED',
      'DEFERRED_TO_PROVIDER',
      'AWAITING_TRIAGE',
      'TRIAGE_RESPONSE',
      'ACCEPTED',
      'REJECTED',
      'CANCELLED_REFERRAL',
      'APPT_CANCELLED_BY_PATIENT',
      'APPT_CANCELLED_BY_PROVIDER',
      'DID_NOT_ATTEND',
    ]) {
      expect(REFERRAL_STATES).toContain(state);
      expect(STATE_DISPLAY[state as ReferralState]).toEqual(expect.any(String));
    }
  });

  it('books only an unbooked referral and cancels a referral once', () => {
    expect(allows('book', 'NOT_BOOKED')).toBe(true);
    expect(allows('book', 'APPT_CANCELLED_BY_PATIENT')).toBe(true);
    expect(allows('book', 'BOOKED')).toBe(false);
    expect(allows('book', 'CANCELLED_REFERRAL')).toBe(false);
    expect(allows('cancelReferral', 'CANCELLED_REFERRAL')).toBe(false);
    expect(allows('recordReviewOutcome', 'AWAITING_TRIAGE')).toBe(true);
    expect(allows('accept', 'NOT_BOOKED')).toBe(false);
  });

  it('refuses a transition from a state not allowed with 422 INVALID_REQUEST_STATE naming the state', () => {
    let thrown: unknown;
    try {
      requireState('accept', 'NOT_BOOKED');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'INVALID_REQUEST_STATE',
      httpStatus: 422,
      diagnostics: expect.stringMatching(/NOT_BOOKED/),
    });
  });

  it('no action leaves a cancelled referral, and every action is allowed from some state', () => {
    for (const [action, from] of Object.entries(ALLOWED_FROM)) {
      expect(from).not.toContain('CANCELLED_REFERRAL');
      expect(from.length).toBeGreaterThan(0);
      void action;
    }
  });
});
