import { codePage, messagePage, startPage } from './secure-pages';

const TOKEN = 'A'.repeat(43);

describe('the [secure] message pages', () => {
  it('shows the message text, subject, sender and attachment names escaped, never as HTML', () => {
    const html = messagePage(TOKEN, {
      from: '"Evil" <x@example.org>',
      to: 'reader@example.org',
      subject: '<img src=x onerror=alert(1)> [secure]',
      date: '2026-12-05T10:00:00.000Z',
      text: '<script>alert("hi")</script>\nline two',
      truncated: false,
      attachments: [
        { index: 0, filename: '"><b>.pdf', contentType: 'application/pdf', size: 2048, downloadable: true },
        { index: 1, filename: 'scan.tiff', contentType: 'image/tiff', size: 5 * 1024 * 1024, downloadable: false },
      ],
    });
    expect(html).not.toMatch(/<script>|<img |<b>/);
    expect(html).toContain('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;');
    expect(html).toContain(`href="/nhsmail/secure/${TOKEN}/attachments/0" download>&quot;&gt;&lt;b&gt;.pdf</a> (2 KB)`);
    expect(html).toContain('scan.tiff (5.0 MB): too large to download here');
  });

  it('puts the CSRF token in every form, and links the error summary to the code field', () => {
    const start = startPage(TOKEN, 'r***@example.org', 'csrf-1');
    expect(start).toContain(`action="/nhsmail/secure/${TOKEN}/code"`);
    expect(start).toContain('<input type="hidden" name="csrf" value="csrf-1">');
    const wrong = codePage(TOKEN, 'csrf-1', 'wrong', 1);
    expect(wrong).toContain('<title>Error: Enter your security code');
    expect(wrong).toContain('<li><a href="#code">The security code is not correct. You have 1 try left</a></li>');
    expect(wrong).toContain('aria-describedby="code-hint code-error"');
    expect(wrong.match(/name="csrf" value="csrf-1"/g)).toHaveLength(2);
    expect(codePage(TOKEN, 'csrf-1')).not.toContain('nhsuk-error-summary');
    expect(startPage(TOKEN, 'r***@example.org', 'csrf-1', 'busy')).toContain('<h2>Too many attempts</h2>');
    expect(startPage(TOKEN, 'r***@example.org', 'csrf-1', 'too-many')).not.toContain('<form');
  });
});
