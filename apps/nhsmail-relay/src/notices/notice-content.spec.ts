import { ERS_EVENTS } from '@platform/contracts-ers';
import { serviceNamed } from '@platform/shared-catalogue';
import { noticeFor, NOTICE_SOURCES } from './notice-content';

describe('notice content', () => {
  it('follows exactly the consumers the catalogue grants the relay (its NATS user may make no others)', () => {
    const byDurable = (a: { durable: string }, b: { durable: string }): number => a.durable.localeCompare(b.durable);
    const granted = [...(serviceNamed('nhsmail-relay').consumes ?? [])].sort(byDurable);
    const followed = NOTICE_SOURCES.map(({ stream, durable, subject }) => ({ stream, durable, subject })).sort(
      byDurable,
    );
    expect(followed).toEqual(granted);
  });

  describe('an Advice and Guidance request converted to a referral (A027)', () => {
    const converted = {
      ubrn: '000000070000',
      versionId: 2,
      state: 'CONVERTED',
      actorOdsCode: 'rr8',
      referralUbrn: '000000070000',
      referrerOdsCode: 'A81001',
      occurredAt: '2026-12-05T14:30:00.000Z',
    };

    it('is mailed to the referring practice, naming the provider, the UBRN it keeps and the date', () => {
      const notice = noticeFor(ERS_EVENTS.adviceConverted, converted);
      expect(notice?.odsCode).toBe('A81001');
      expect(notice?.subject).toBe('e-RS advice and guidance 000000070000 converted to a referral');
      expect(notice?.text).toContain(
        'Your advice and guidance request 000000070000 was converted to a referral by the provider RR8 on ' +
          '2026-12-05, under the same UBRN (000000070000).',
      );
      expect(notice?.text).toContain('You do not need to send a new referral');
    });

    it('names the referral UBRN when it differs, and reads an event without one as keeping the UBRN', () => {
      expect(noticeFor(ERS_EVENTS.adviceConverted, { ...converted, referralUbrn: '000000070001' })?.text).toContain(
        'under UBRN 000000070001.',
      );
      const { referralUbrn: _omitted, ...without } = converted;
      expect(noticeFor(ERS_EVENTS.adviceConverted, without)?.text).toContain('under the same UBRN (000000070000)');
    });

    it('is skipped when the event is malformed or names no referring practice', () => {
      expect(noticeFor(ERS_EVENTS.adviceConverted, { ...converted, referralUbrn: 'x' })).toBeUndefined();
      expect(noticeFor(ERS_EVENTS.adviceConverted, { ...converted, ubrn: '70000' })).toBeUndefined();
      const { referrerOdsCode: _omitted, ...noReferrer } = converted;
      expect(noticeFor(ERS_EVENTS.adviceConverted, noReferrer)).toBeUndefined();
    });

    it('carries nothing of the event beyond the organisations, the UBRNs and the date', () => {
      const notice = noticeFor(ERS_EVENTS.adviceConverted, {
        ...converted,
        patientNhsNumber: '9434765919',
        guidance: 'Started on ramipril',
        reason: 'Started on ramipril',
      });
      expect(JSON.stringify(notice)).not.toMatch(/9434765919|ramipril/);
    });
  });
});
