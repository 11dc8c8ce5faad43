import {
  PATIENT_CANCELLATION_REASONS,
  type PatientAppointment,
  type PatientService,
  type PatientSlots,
  type PatientView,
} from '@platform/contracts-ers';

/**
 * The patient page's HTML, rendered on the server: plain forms that post and redirect (no JavaScript), one
 * question or choice per page, labels on every field, an error summary linking to the field in error, and
 * the NHS design system's class names and layout (its stylesheet is not bundled: a small one is served).
 */

export const PATIENT_BASE = '/referrals/patient';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

const WHEN = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  hour12: true,
});

export function when(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : WHEN.format(at);
}

function wait(days: number): string {
  if (days < 14) return `${days} day${days === 1 ? '' : 's'}`;
  const weeks = Math.round(days / 7);
  return `${weeks} weeks`;
}

export const STYLESHEET = `
*{box-sizing:border-box}
body{margin:0;font-family:Arial,Helvetica,sans-serif;font-size:19px;line-height:1.47;color:#212b32;background:#f0f4f5}
a{color:#005eb8}a:visited{color:#330072}a:hover{color:#7c2855}
a:focus,.nhsuk-button:focus,input:focus{outline:4px solid transparent;background-color:#ffeb3b;box-shadow:0 -2px #ffeb3b,0 4px #212b32;color:#212b32;text-decoration:none}
.nhsuk-skip-link{position:absolute;left:-9999px}.nhsuk-skip-link:focus{left:16px;top:8px;padding:8px;z-index:10}
.nhsuk-header{background:#005eb8;color:#fff;padding:16px 0}
.nhsuk-header a,.nhsuk-header a:visited{color:#fff;font-weight:bold;text-decoration:none;font-size:22px}
.nhsuk-width-container{max-width:960px;margin:0 auto;padding:0 16px}
main{padding:32px 0 48px}
h1{font-size:32px;line-height:1.2;margin:0 0 24px}h2{font-size:24px;margin:32px 0 16px}
.nhsuk-form-group{margin-bottom:24px}.nhsuk-form-group--error{border-left:4px solid #d5281b;padding-left:16px}
.nhsuk-label,legend{display:block;font-weight:bold;margin-bottom:8px}
.nhsuk-hint{display:block;color:#4c6272;margin-bottom:8px}
.nhsuk-error-message{display:block;color:#d5281b;font-weight:bold;margin-bottom:8px}
.nhsuk-input{font-size:19px;padding:4px;border:2px solid #4c6272;min-height:40px}.nhsuk-input--error{border-color:#d5281b}
.nhsuk-input--width-10{width:12em}.nhsuk-input--width-4{width:5.5em}
.nhsuk-error-summary{border:4px solid #d5281b;padding:16px;margin-bottom:32px;background:#fff}
.nhsuk-error-summary a{color:#d5281b;font-weight:bold}
.nhsuk-button{font-size:19px;font-weight:bold;color:#fff;background:#007f3b;border:0;border-radius:4px;box-shadow:0 4px 0 #00401e;padding:12px 16px;cursor:pointer;margin:0 16px 16px 0}
.nhsuk-button--secondary{background:#4c6272;box-shadow:0 4px 0 #263139}
.nhsuk-button--warning{background:#d5281b;box-shadow:0 4px 0 #6b140e}
fieldset{border:0;padding:0;margin:0}
.nhsuk-radios__item{display:block;margin-bottom:8px;padding:8px;background:#fff;border:1px solid #d8dde0}
.nhsuk-radios__item input{width:24px;height:24px;vertical-align:middle;margin-right:8px}
.nhsuk-card{background:#fff;border:1px solid #d8dde0;padding:24px;margin-bottom:24px}
.nhsuk-panel{background:#007f3b;color:#fff;padding:24px;margin-bottom:32px}.nhsuk-panel h1{margin:0}
.nhsuk-inset-text{border-left:8px solid #005eb8;padding:8px 16px;margin:24px 0;background:#fff}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;border-bottom:1px solid #d8dde0;padding:8px}
.nhsuk-pagination{display:flex;justify-content:space-between;margin-top:24px}
form.inline{display:block;margin-top:32px}
.nhsuk-u-visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important}
`;

function layout(title: string, body: string, options: { signedIn?: { csrf: string } } = {}): string {
  const signOut = options.signedIn
    ? `<form class="inline" method="post" action="${PATIENT_BASE}/sign-out">
         <input type="hidden" name="csrf" value="${escapeHtml(options.signedIn.csrf)}">
         <button class="nhsuk-button nhsuk-button--secondary" type="submit">Sign out</button>
       </form>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Manage your referral - NHS</title>
<link rel="stylesheet" href="${PATIENT_BASE}/assets/style.css">
</head>
<body>
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner"><div class="nhsuk-width-container">
<a href="${PATIENT_BASE}" aria-label="NHS Manage your referral homepage">NHS &middot; Manage your referral</a>
</div></header>
<div class="nhsuk-width-container">
<main id="maincontent" role="main">
${body}
${signOut}
</main>
</div>
</body>
</html>`;
}

interface FieldError {
  field: string;
  message: string;
}

function errorSummary(errors: FieldError[]): string {
  if (errors.length === 0) return '';
  return `<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
<h2 id="error-summary-title">There is a problem</h2>
<ul>${errors.map((error) => `<li><a href="#${error.field}">${escapeHtml(error.message)}</a></li>`).join('')}</ul>
</div>`;
}

function input(
  id: string,
  label: string,
  hint: string,
  options: { error?: string; width: 4 | 10; value?: string; inputmode?: string; autocomplete?: string },
): string {
  const describedBy = [`${id}-hint`, ...(options.error ? [`${id}-error`] : [])].join(' ');
  return `<div class="nhsuk-form-group${options.error ? ' nhsuk-form-group--error' : ''}">
<label class="nhsuk-label" for="${id}">${escapeHtml(label)}</label>
<div class="nhsuk-hint" id="${id}-hint">${escapeHtml(hint)}</div>
${options.error ? `<span class="nhsuk-error-message" id="${id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${escapeHtml(options.error)}</span>` : ''}
<input class="nhsuk-input nhsuk-input--width-${options.width}${options.error ? ' nhsuk-input--error' : ''}" id="${id}" name="${id}" type="text"
  spellcheck="false" autocomplete="${options.autocomplete ?? 'off'}" ${options.inputmode ? `inputmode="${options.inputmode}"` : ''}
  aria-describedby="${describedBy}" value="${escapeHtml(options.value ?? '')}">
</div>`;
}

export type StartProblem = 'wrong' | 'locked' | 'ended' | 'missing' | 'busy' | 'expired';

/** The start page: the three details from the letter, and the sign-in form's CSRF token. */
export function startPage(problem?: StartProblem, notice?: 'signed-out', csrf = ''): string {
  const errors: FieldError[] = [];
  if (problem === 'wrong') {
    errors.push({
      field: 'ubrn',
      message:
        'The details you entered do not match our records. Check the booking reference number, password and year of birth on your letter',
    });
  } else if (problem === 'locked') {
    errors.push({
      field: 'ubrn',
      message:
        'You have entered the wrong details too many times. For your security you cannot sign in with this booking reference for 30 minutes',
    });
  } else if (problem === 'missing') {
    errors.push({ field: 'ubrn', message: 'Enter your booking reference number, password and year of birth' });
  } else if (problem === 'ended') {
    errors.push({ field: 'ubrn', message: 'You have been signed out. Enter your details again to continue' });
  } else if (problem === 'busy') {
    errors.push({ field: 'ubrn', message: 'Too many attempts from your connection. Try again in a minute' });
  } else if (problem === 'expired') {
    errors.push({ field: 'ubrn', message: 'This page has expired. Enter your details again to continue' });
  }
  const body = `
${errorSummary(errors)}
${notice === 'signed-out' ? '<div class="nhsuk-inset-text"><p>You have signed out.</p></div>' : ''}
<h1>Book or change your hospital appointment</h1>
<p>Use the booking reference number and password from your appointment request letter.</p>
<form method="post" action="${PATIENT_BASE}/sign-in" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
${input('ubrn', 'Booking reference number', 'This is 12 numbers, for example 0000 4000 1234', {
  width: 10,
  inputmode: 'numeric',
  ...(errors[0] ? { error: errors[0].message } : {}),
})}
${input('accessCode', 'Password', 'This is on your letter, under your booking reference number', { width: 10 })}
${input('birthYear', 'Year of birth', 'For example, 1969', { width: 4, inputmode: 'numeric', autocomplete: 'bday-year' })}
<button class="nhsuk-button" type="submit">Continue</button>
</form>`;
  return layout(
    errors.length ? 'Error: Book or change your hospital appointment' : 'Book or change your hospital appointment',
    body,
  );
}

function serviceRow(service: PatientService, canBook: boolean): string {
  const distance = service.distanceKm === undefined ? 'Not shown' : `${service.distanceKm.toFixed(1)} km`;
  const action =
    canBook && service.bookable
      ? `<a href="${PATIENT_BASE}/services/${encodeURIComponent(service.id)}/slots">Choose appointment<span class="nhsuk-u-visually-hidden"> at ${escapeHtml(service.name)}</span></a>`
      : service.bookable
        ? ''
        : 'The hospital will contact you';
  return `<tr><td>${escapeHtml(service.name)}</td><td>${distance}</td><td>${wait(service.waitDays)}</td><td>${action}</td></tr>`;
}

function appointmentCard(appointment: PatientAppointment, view: PatientView): string {
  return `<div class="nhsuk-card">
<h2>Your appointment</h2>
<p><strong>${escapeHtml(when(appointment.start))}</strong></p>
<p>${escapeHtml(appointment.serviceName)}</p>
${
  view.canCancel
    ? `<a class="nhsuk-button nhsuk-button--secondary" href="${PATIENT_BASE}/cancel?intent=change">Change appointment</a>
<a class="nhsuk-button nhsuk-button--warning" href="${PATIENT_BASE}/cancel">Cancel appointment</a>`
    : ''
}
</div>`;
}

export type ReferralNotice = 'booked' | 'cancelled' | 'change' | 'changed' | 'taken' | 'not-allowed';

const NOTICES: Record<ReferralNotice, string> = {
  booked: '',
  cancelled: 'Your appointment has been cancelled.',
  change: 'Your old appointment has been cancelled. Choose a new appointment below.',
  changed: 'Your referral has changed since you opened the page. Check the details below and try again.',
  taken: 'That appointment has just been taken by someone else. Choose another one.',
  'not-allowed': 'That cannot be done for your referral at the moment.',
};

/** The patient's referral: the appointment if booked, and the shortlist with distance and wait. */
export function referralPage(view: PatientView, notice?: ReferralNotice): string {
  const confirmed =
    notice === 'booked' && view.appointment
      ? `<div class="nhsuk-panel" role="status"><h1>Appointment booked</h1><p>${escapeHtml(when(view.appointment.start))}<br>${escapeHtml(view.appointment.serviceName)}</p></div>`
      : '';
  const message =
    notice && notice !== 'booked'
      ? `<div class="nhsuk-inset-text" role="status"><p>${escapeHtml(NOTICES[notice])}</p></div>`
      : '';
  const distanceNote = view.restricted
    ? '<p>Distances are not shown for your record.</p>'
    : '<p>Distances are measured in a straight line from the postcode your GP searched from.</p>';
  const body = `
${confirmed}
${message}
${confirmed ? '' : '<h1>Your referral</h1>'}
<p>Booking reference: <strong>${escapeHtml(view.ubrn.replace(/(\d{4})(?=\d)/g, '$1 '))}</strong></p>
<p>Status: ${escapeHtml(view.stateDisplay)}</p>
${view.appointment ? appointmentCard(view.appointment, view) : ''}
<h2>Services your GP chose for you</h2>
${distanceNote}
<table>
<caption class="nhsuk-u-visually-hidden">Services on your shortlist</caption>
<thead><tr><th scope="col">Service</th><th scope="col">Distance</th><th scope="col">Usual wait</th><th scope="col"><span class="nhsuk-u-visually-hidden">Action</span></th></tr></thead>
<tbody>${view.shortlist.map((service) => serviceRow(service, view.canBook)).join('')}</tbody>
</table>`;
  return layout(confirmed ? 'Appointment booked' : 'Your referral', body, { signedIn: { csrf: view.csrf } });
}

/** Free slots of one service: choose one (radios), then book. */
export function slotsPage(slots: PatientSlots, requestId: string, error?: 'choose'): string {
  const pages = Math.max(1, Math.ceil(slots.total / slots.pageSize));
  const base = `${PATIENT_BASE}/services/${encodeURIComponent(slots.service.id)}/slots`;
  const errors: FieldError[] = error === 'choose' ? [{ field: 'slot-1', message: 'Choose an appointment' }] : [];
  const radios = slots.slots
    .map(
      (slot, index) => `<div class="nhsuk-radios__item">
<input class="nhsuk-radios__input" id="slot-${index + 1}" name="slotId" type="radio" value="${escapeHtml(slot.id)}">
<label class="nhsuk-label nhsuk-radios__label" for="slot-${index + 1}">${escapeHtml(when(slot.start))}</label>
</div>`,
    )
    .join('');
  const body = `
${errorSummary(errors)}
<p><a href="${PATIENT_BASE}/referral">Back to your referral</a></p>
${
  slots.slots.length === 0
    ? `<h1>${escapeHtml(slots.service.name)}</h1><p>There are no appointments available to book at this service at the moment.</p>`
    : `<form method="post" action="${PATIENT_BASE}/book" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(slots.csrf)}">
<input type="hidden" name="version" value="${slots.version}">
<input type="hidden" name="serviceId" value="${escapeHtml(slots.service.id)}">
<input type="hidden" name="requestId" value="${escapeHtml(requestId)}">
<div class="nhsuk-form-group${errors.length ? ' nhsuk-form-group--error' : ''}">
<fieldset aria-describedby="slots-hint">
<legend><h1>Choose an appointment at ${escapeHtml(slots.service.name)}</h1></legend>
<div class="nhsuk-hint" id="slots-hint">Page ${slots.page} of ${pages}. ${slots.total} appointment${slots.total === 1 ? '' : 's'} available.</div>
${errors.length ? '<span class="nhsuk-error-message">Choose an appointment</span>' : ''}
${radios}
</fieldset>
</div>
<button class="nhsuk-button" type="submit">Book this appointment</button>
</form>
<nav class="nhsuk-pagination" aria-label="Appointment pages">
${slots.page > 1 ? `<a href="${base}?page=${slots.page - 1}">Earlier appointments</a>` : '<span></span>'}
${slots.page < pages ? `<a href="${base}?page=${slots.page + 1}">Later appointments</a>` : ''}
</nav>`
}`;
  return layout(`${errors.length ? 'Error: ' : ''}Choose an appointment at ${slots.service.name}`, body, {
    signedIn: { csrf: slots.csrf },
  });
}

/** Cancel (or change: cancel, then choose again) the appointment, with the patient's reason. */
export function cancelPage(view: PatientView, change: boolean, requestId: string, error?: 'reason'): string {
  const appointment = view.appointment;
  const errors: FieldError[] = error === 'reason' ? [{ field: 'reason-1', message: 'Choose a reason' }] : [];
  const title = change ? 'Why do you want to change your appointment?' : 'Why do you want to cancel your appointment?';
  const body = !appointment
    ? `<h1>You have no appointment to ${change ? 'change' : 'cancel'}</h1><p><a href="${PATIENT_BASE}/referral">Back to your referral</a></p>`
    : `
${errorSummary(errors)}
<p><a href="${PATIENT_BASE}/referral">Back to your referral</a></p>
<form method="post" action="${PATIENT_BASE}/cancel" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<input type="hidden" name="appointmentId" value="${escapeHtml(appointment.id)}">
<input type="hidden" name="appointmentVersion" value="${appointment.version}">
<input type="hidden" name="intent" value="${change ? 'change' : 'cancel'}">
<input type="hidden" name="requestId" value="${escapeHtml(requestId)}">
<div class="nhsuk-form-group${errors.length ? ' nhsuk-form-group--error' : ''}">
<fieldset aria-describedby="reason-hint">
<legend><h1>${title}</h1></legend>
<div class="nhsuk-hint" id="reason-hint">Your appointment on ${escapeHtml(when(appointment.start))} at ${escapeHtml(appointment.serviceName)} will be cancelled${change ? ' and you can then choose a new one' : ''}.</div>
${errors.length ? '<span class="nhsuk-error-message">Choose a reason</span>' : ''}
${Object.entries(PATIENT_CANCELLATION_REASONS)
  .map(
    ([code, label], index) => `<div class="nhsuk-radios__item">
<input id="reason-${index + 1}" name="reason" type="radio" value="${code}">
<label class="nhsuk-label" for="reason-${index + 1}">${escapeHtml(label)}</label></div>`,
  )
  .join('')}
</fieldset>
</div>
<button class="nhsuk-button nhsuk-button--warning" type="submit">${change ? 'Cancel and choose a new appointment' : 'Cancel appointment'}</button>
</form>`;
  return layout(`${errors.length ? 'Error: ' : ''}${title}`, body, { signedIn: { csrf: view.csrf } });
}

export function problemPage(title: string, text: string): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p><a href="${PATIENT_BASE}">Start again</a></p>`,
  );
}
