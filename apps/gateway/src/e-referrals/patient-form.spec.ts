import { parseFormBody } from './patient-form';
import { escapeHtml, startPage } from './patient-pages';

/** The code a form body is refused with, or 'accepted'. */
function refusal(body: Buffer): string {
  try {
    parseFormBody(body);
    return 'accepted';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}

describe('the patient page forms and pages', () => {
  it('reads a form post as fields, each once', () => {
    expect(parseFormBody(Buffer.from('ubrn=0000+4000+1234&accessCode=ab%2Fc&birthYear=1969'))).toEqual({
      ubrn: '0000 4000 1234',
      accessCode: 'ab/c',
      birthYear: '1969',
    });
  });

  it('refuses invalid UTF-8, NUL, a repeated field and too many fields', () => {
    expect(refusal(Buffer.from([0x75, 0x3d, 0xff]))).toBe('REC_BAD_REQUEST');
    expect(refusal(Buffer.from('u=a%00b'))).toBe('REC_BAD_REQUEST');
    expect(refusal(Buffer.from('u=1&u=2'))).toBe('REC_BAD_REQUEST');
    const many = Array.from({ length: 21 }, (_, index) => `f${index}=1`).join('&');
    expect(refusal(Buffer.from(many))).toBe('REC_BAD_REQUEST');
  });

  it('a field named __proto__ is only a field', () => {
    const fields = parseFormBody(Buffer.from('__proto__=x&ubrn=1'));
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(fields['__proto__']).toBe('x');
  });

  it('escapes what it writes into HTML, and labels every field of the start page', () => {
    expect(escapeHtml(`<script>"x"&'y'</script>`)).toBe('&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;');
    const page = startPage('wrong');
    for (const id of ['ubrn', 'accessCode', 'birthYear']) {
      expect(page).toContain(`<label class="nhsuk-label" for="${id}">`);
      expect(page).toContain(`id="${id}" name="${id}"`);
    }
    expect(page).toContain('<a href="#ubrn">The details you entered do not match');
    expect(page).not.toContain('<script');
  });

  it('carries the sign-in CSRF token in the form (escaped) and says when a post came without it', () => {
    const page = startPage('expired', undefined, 'tok"en');
    expect(page).toContain('<input type="hidden" name="csrf" value="tok&quot;en">');
    expect(page).toContain('This page has expired');
    expect(startPage('busy', undefined, 't')).toContain('Too many attempts from your connection');
  });
});
