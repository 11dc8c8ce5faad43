import { randomBytes, randomUUID } from 'node:crypto';

export interface DsnInput {
  action: 'failed' | 'delayed';
  reportingMta: string;
  postmaster: string;
  sender: string;
  recipient: string;
  /** The last reply or error, as the remote side gave it (no message content). */
  diagnostic: string;
  arrivalDate: Date;
  /** The original message's header block. */
  originalHeaders: string;
  originalSubject: string | null;
}

/**
 * The enhanced status code in the last reply (5.1.1; a 4.x.x one stays as it was when the retry limit turned a
 * temporary failure into a bounce, as Postfix reports it), or the generic one for the action.
 */
export function statusOf(diagnostic: string, action: DsnInput['action']): string {
  const found = /\b([45]\.\d{1,3}\.\d{1,3})\b/.exec(diagnostic)?.[1];
  if (found) return found;
  return action === 'failed' ? '5.0.0' : '4.0.0';
}

function oneLine(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 900);
}

/**
 * A delivery status notification (RFC 3464): multipart/report with a human part, the message/delivery-status
 * part (per-message and per-recipient fields), and the original message's headers (text/rfc822-headers).
 * Sent with a null envelope sender so it never bounces back.
 */
export function composeDsn(input: DsnInput): { messageId: string; raw: Buffer } {
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const messageId = `<${randomUUID()}@${input.reportingMta}>`;
  const status = statusOf(input.diagnostic, input.action);
  const subject =
    input.action === 'failed'
      ? 'Undelivered Mail Returned to Sender'
      : 'Delayed Mail (still being retried, no action needed yet)';
  const human =
    input.action === 'failed'
      ? `Your message${input.originalSubject ? ` "${oneLine(input.originalSubject).slice(0, 200)}"` : ''} could not be delivered to ${input.recipient}.\r\nThe mail system gave up: ${oneLine(input.diagnostic)}\r\n`
      : `Your message${input.originalSubject ? ` "${oneLine(input.originalSubject).slice(0, 200)}"` : ''} has not yet been delivered to ${input.recipient}.\r\nThe relay will keep trying; you do not need to send it again. Last reply: ${oneLine(input.diagnostic)}\r\n`;
  const now = new Date().toUTCString();
  const lines = [
    `From: Mail Delivery System <${input.postmaster}>`,
    `To: <${input.sender}>`,
    `Subject: ${subject}`,
    `Date: ${now}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    human,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${input.arrivalDate.toUTCString()}`,
    '',
    `Final-Recipient: rfc822; ${input.recipient}`,
    `Action: ${input.action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${oneLine(input.diagnostic)}`,
    `Last-Attempt-Date: ${now}`,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    input.originalHeaders.replace(/\r?\n/g, '\r\n'),
    '',
    `--${boundary}--`,
    '',
  ];
  return { messageId, raw: Buffer.from(lines.join('\r\n'), 'latin1') };
}
