import type { SecureLinkProblem, SecureMessageView } from '@platform/contracts-nhsmail';
import { STYLESHEET as NHS_STYLESHEET } from '../e-referrals/patient-pages';

/**
 * The NHSmail secure messages page's HTML, rendered on the server: plain forms that post and redirect (no
 * JavaScript), a label on every field, an error summary linking to the field in error, and the NHS design
 * system's class names (the platform's small NHS stylesheet, with a rule for the message text).
 */

export const SECURE_BASE = '/nhsmail/secure';

export const SECURE_STYLESHEET = `${NHS_STYLESHEET}
.nhsmail-message-text{white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit;background:#fff;border:1px solid #d8dde0;padding:16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 24px}dt{font-weight:bold}dd{margin:0}
`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} - NHSmail secure messages - NHS</title>
<link rel="stylesheet" href="${SECURE_BASE}/assets/style.css">
</head>
<body>
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner"><div class="nhsuk-width-container">
<span class="nhsuk-header__service">NHS &middot; NHSmail secure messages</span>
</div></header>
<div class="nhsuk-width-container">
<main id="maincontent" role="main">
${body}
</main>
</div>
</body>
</html>`;
}

function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
}

const PROBLEMS: Record<SecureLinkProblem | StartProblem, { title: string; text: string }> = {
  unknown: { title: 'This link does not work', text: 'Check that you copied the whole link from the email.' },
  expired: {
    title: 'This link has expired',
    text: 'Ask the person who sent you the message to send it again.',
  },
  locked: {
    title: 'This link is locked',
    text: 'Too many wrong security codes were entered. Ask the person who sent you the message to send it again.',
  },
  'too-many': {
    title: 'Too many codes have been sent',
    text: 'No more security codes can be sent for this link. Ask the person who sent you the message to send it again.',
  },
  form: { title: 'Your form had expired', text: 'Try again.' },
  session: { title: 'You need a new security code', text: 'Your time to read the message has ended.' },
  busy: { title: 'Too many attempts', text: 'Wait a minute, then try again.' },
};

export type StartProblem = 'too-many' | 'form' | 'session' | 'busy';

/** The link's first page: who the code goes to, and a button to send it. */
export function startPage(token: string, maskedAddress: string, csrf: string, problem?: StartProblem): string {
  const notice = problem
    ? `<div class="nhsuk-inset-text"><h2>${escapeHtml(PROBLEMS[problem].title)}</h2><p>${escapeHtml(PROBLEMS[problem].text)}</p></div>`
    : '';
  const form =
    problem === 'too-many'
      ? ''
      : `<form method="post" action="${SECURE_BASE}/${token}/code" novalidate>
${csrfField(csrf)}
<button class="nhsuk-button" type="submit">Send me a security code</button>
</form>`;
  return layout(
    'You have a secure message',
    `<h1>You have a secure message</h1>
${notice}
<p>Someone at the NHS has sent you a message that contains sensitive information, so it was not sent by email.</p>
<p>To read it, we will email a 6-digit security code to <strong>${escapeHtml(maskedAddress)}</strong>.</p>
${form}`,
  );
}

/** A link that cannot be used (unknown, expired, locked). */
export function linkProblemPage(problem: SecureLinkProblem): string {
  const { title, text } = PROBLEMS[problem];
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}

export type CodeError = 'missing' | 'wrong' | 'code-expired' | 'no-code';

const CODE_ERRORS: Record<CodeError, string> = {
  missing: 'Enter the 6-digit security code from the email',
  wrong: 'The security code is not correct',
  'code-expired': 'The security code has expired: send a new code',
  'no-code': 'That security code has been used or replaced: send a new code',
};

/** Where the code is entered; with an error summary after a wrong, expired or missing one. */
export function codePage(token: string, csrf: string, error?: CodeError, attemptsLeft?: number): string {
  const message = error
    ? `${CODE_ERRORS[error]}${error === 'wrong' && attemptsLeft !== undefined ? `. You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left` : ''}`
    : '';
  const summary = error
    ? `<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
<h2 id="error-summary-title">There is a problem</h2>
<ul><li><a href="#code">${escapeHtml(message)}</a></li></ul>
</div>`
    : '';
  return layout(
    error ? 'Error: Enter your security code' : 'Enter your security code',
    `${summary}
<form method="post" action="${SECURE_BASE}/${token}/verify" novalidate>
${csrfField(csrf)}
<div class="nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}">
<h1><label class="nhsuk-label" for="code">Enter your security code</label></h1>
<span class="nhsuk-hint" id="code-hint">We have emailed you a 6-digit code. It works once, for a few minutes.</span>
${error ? `<span class="nhsuk-error-message" id="code-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${escapeHtml(message)}</span>` : ''}
<input class="nhsuk-input nhsuk-input--width-10${error ? ' nhsuk-input--error' : ''}" id="code" name="code" type="text"
 inputmode="numeric" autocomplete="one-time-code" spellcheck="false" maxlength="12"
 aria-describedby="code-hint${error ? ' code-error' : ''}">
</div>
<button class="nhsuk-button" type="submit">Continue</button>
</form>
<form method="post" action="${SECURE_BASE}/${token}/code">
${csrfField(csrf)}
<button class="nhsuk-button nhsuk-button--secondary" type="submit">Send a new code</button>
</form>`,
  );
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The message: headers, its text (escaped, never HTML), its attachments to download. */
export function messagePage(token: string, view: SecureMessageView): string {
  const attachments = view.attachments.length
    ? `<h2>Attachments</h2><ul>${view.attachments
        .map((attachment) =>
          attachment.downloadable
            ? `<li><a href="${SECURE_BASE}/${token}/attachments/${attachment.index}" download>${escapeHtml(attachment.filename)}</a> (${size(attachment.size)})</li>`
            : `<li>${escapeHtml(attachment.filename)} (${size(attachment.size)}): too large to download here; ask the sender for it another way</li>`,
        )
        .join('')}</ul>`
    : '';
  return layout(
    view.subject || 'Secure message',
    `<h1>${escapeHtml(view.subject || '(no subject)')}</h1>
<dl>
<dt>From</dt><dd>${escapeHtml(view.from)}</dd>
<dt>To</dt><dd>${escapeHtml(view.to)}</dd>
${view.date ? `<dt>Sent</dt><dd>${escapeHtml(new Date(view.date).toUTCString())}</dd>` : ''}
</dl>
<div class="nhsmail-message-text">${escapeHtml(view.text)}</div>
${view.truncated ? '<p>This message is longer than this page can show.</p>' : ''}
${attachments}`,
  );
}
