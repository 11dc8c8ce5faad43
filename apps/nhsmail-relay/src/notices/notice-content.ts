import { ERS_EVENT_STREAM, ERS_EVENTS } from '@platform/contracts-ers';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS } from '@platform/contracts-gp2gp';

/** One event subject the relay turns into practice mail, and the durable consumer that follows it. */
export interface NoticeSource {
  stream: string;
  subject: string;
  /** The JetStream durable consumer's name (the catalogue grants the relay exactly these). */
  durable: string;
}

/**
 * The events mailed to a practice. Kept in step with the catalogue's `consumes` entry for nhsmail-relay
 * (libs/shared/catalogue), which gives the relay's NATS user the right to these consumers and no others.
 */
export const NOTICE_SOURCES: readonly NoticeSource[] = [
  { stream: GP2GP_EVENT_STREAM, subject: GP2GP_EVENTS.transferTimedOut, durable: 'nhsmail-gp2gp-timed-out' },
  { stream: ERS_EVENT_STREAM, subject: ERS_EVENTS.referralRejected, durable: 'nhsmail-ers-referral-rejected' },
  { stream: ERS_EVENT_STREAM, subject: ERS_EVENTS.adviceResponded, durable: 'nhsmail-ers-advice-responded' },
  { stream: ERS_EVENT_STREAM, subject: ERS_EVENTS.adviceConverted, durable: 'nhsmail-ers-advice-converted' },
  {
    stream: ERS_EVENT_STREAM,
    subject: ERS_EVENTS.appointmentCancelled,
    durable: 'nhsmail-ers-appointment-cancelled',
  },
];

/** A notice for one practice: whose mailbox, and what it says. */
export interface PracticeNotice {
  odsCode: string;
  subject: string;
  text: string;
}

const ODS = /^[A-Za-z0-9]{3,10}$/;
const UBRN = /^[0-9]{12}$/;
const UUID = /^[0-9a-fA-F-]{36}$/;
/** Reason codes and states as the services publish them: short code words, never free text. */
const CODE = /^[A-Za-z0-9_-]{1,64}$/;

function text(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}

const FOOTER = [
  '',
  'This is an automatic message from the NHS platform; replies to it are not read.',
  'It names no patient: open the record in your clinical system by the reference above.',
].join('\n');

/**
 * The notice an event gives, or undefined when the event does not call for one (or is malformed). Only what the
 * event carries and the practice needs to act goes in: the organisations, the conversation ID or UBRN, the
 * reason code and the date. No patient name, NHS number or clinical text, as an NHS notice of this kind does;
 * the practice finds the patient in its own system from the reference (and e-RS comments stay in e-RS).
 */
export function noticeFor(subject: string, event: Record<string, unknown>): PracticeNotice | undefined {
  const when = typeof event['occurredAt'] === 'string' ? new Date(event['occurredAt']) : undefined;
  const date = when && !Number.isNaN(when.getTime()) ? when.toISOString().slice(0, 10) : 'today';
  if (subject === GP2GP_EVENTS.transferTimedOut) {
    const sending = text(event['sendingOds'], ODS);
    const requesting = text(event['requestingOds'], ODS);
    const conversation = text(event['conversationId'], UUID);
    if (!sending || !requesting || !conversation) return undefined;
    return {
      odsCode: sending,
      subject: `GP2GP transfer not acknowledged: print the record (conversation ${conversation})`,
      text: [
        `The electronic record transfer with conversation ID ${conversation}, from your practice (${sending.toUpperCase()})`,
        `to practice ${requesting.toUpperCase()}, received no final acknowledgement within 8 days (GP2GP error 99,`,
        `recorded ${date}).`,
        '',
        "Please print the patient's record and send it to the new practice by the paper process (via PCSE), as for",
        'any GP2GP transfer that does not complete. Your clinical system shows the patient under this conversation ID.',
        FOOTER,
      ].join('\n'),
    };
  }
  const referrer = text(event['referrerOdsCode'], ODS);
  const ubrn = text(event['ubrn'], UBRN);
  if (!referrer || !ubrn) return undefined;
  const reason = text(event['reason'], CODE);
  const provider = text(event['providerOdsCode'], ODS) ?? text(event['actorOdsCode'], ODS);
  const by = provider ? ` by ${provider.toUpperCase()}` : '';
  const because = reason ? ` (reason code ${reason})` : '';
  if (subject === ERS_EVENTS.referralRejected) {
    return {
      odsCode: referrer,
      subject: `e-RS referral ${ubrn} rejected`,
      text: [
        `Referral ${ubrn} was returned to your practice${by} on ${date}${because}.`,
        '',
        'Review it in e-RS (worklist "Rejected") and decide the next step with the patient: refer elsewhere,',
        'change the shortlist, or close the referral.',
        FOOTER,
      ].join('\n'),
    };
  }
  if (subject === ERS_EVENTS.adviceResponded) {
    return {
      odsCode: referrer,
      subject: `e-RS advice and guidance returned for ${ubrn}`,
      text: [
        `The provider${by} has responded to your advice and guidance request ${ubrn} on ${date}${because}.`,
        '',
        'Read the response in e-RS; it may ask you to refer the patient or to act on its advice.',
        FOOTER,
      ].join('\n'),
    };
  }
  if (subject === ERS_EVENTS.adviceConverted) {
    // A027: the provider made the request a referral. It keeps the request's UBRN (e-referrals names it as
    // referralUbrn; only a store seeded with the NHS examples gives another). The converting provider is the actor.
    const referral = event['referralUbrn'] === undefined ? ubrn : text(event['referralUbrn'], UBRN);
    if (!referral) return undefined;
    const under = referral === ubrn ? `under the same UBRN (${ubrn})` : `under UBRN ${referral}`;
    const byProvider = provider ? ` by the provider ${provider.toUpperCase()}` : ' by the provider';
    return {
      odsCode: referrer,
      subject: `e-RS advice and guidance ${ubrn} converted to a referral`,
      text: [
        `Your advice and guidance request ${ubrn} was converted to a referral${byProvider} on ${date}, ${under}.`,
        '',
        "You do not need to send a new referral: the provider's admin team takes it on from here (booking the",
        `patient in or referring on). The referral shows in e-RS under ${referral}, where you can follow it.`,
        FOOTER,
      ].join('\n'),
    };
  }
  if (subject === ERS_EVENTS.appointmentCancelled) {
    return {
      odsCode: referrer,
      subject: `e-RS appointment cancelled for referral ${ubrn}`,
      text: [
        `The appointment booked for referral ${ubrn} was cancelled on ${date}${because}.`,
        '',
        'The referral stays open in e-RS: it can be rebooked, or the provider will act on it from its worklist.',
        FOOTER,
      ].join('\n'),
    };
  }
  return undefined;
}
