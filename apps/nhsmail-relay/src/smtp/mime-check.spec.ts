import { Readable } from 'node:stream';
import { checkMime, MAX_EMBEDDED_DEPTH, type MimeFindings } from './mime-check';

const crlf = (lines: string[]): string => lines.join('\r\n');
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Runs a message through the check in chunks of the given size (as the DATA stream would deliver it). */
async function check(raw: string | Buffer, chunkSize = 16 * 1024): Promise<MimeFindings> {
  const bytes = Buffer.from(raw);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  const mime = checkMime();
  Readable.from(chunks).pipe(mime.input);
  return mime.findings;
}

/** A multipart/mixed message: a text part, then the given parts (header lines, blank line, body). */
const mixed = (...parts: string[][]): string =>
  crlf([
    'From: Jane Smith <Jane.Smith@NHS.net>',
    'Subject: parts',
    'Message-ID: <m1@nhs.net>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'see attached',
    ...parts.flatMap((part) => ['--b1', ...part]),
    '--b1--',
    '',
  ]);
const attachment = (...headers: string[]): string[] => [
  ...headers,
  'Content-Transfer-Encoding: base64',
  '',
  b64('MZ payload'),
  '',
];
const embedded = (name: string): string[] => [
  'From: inner@example.org',
  'Subject: inner',
  'Content-Type: multipart/mixed; boundary="in"',
  '',
  '--in',
  'Content-Type: text/plain',
  '',
  'hello',
  '--in',
  'Content-Type: application/octet-stream',
  `Content-Disposition: attachment; filename="${name}"`,
  'Content-Transfer-Encoding: base64',
  '',
  b64('MZ'),
  '--in--',
  '',
];

describe('the MIME check at DATA (split with mailsplit, no body decoded)', () => {
  it('reads the top-level From, Subject and Message-ID, decoding encoded words', async () => {
    const found = await check(
      crlf([
        `From: =?UTF-8?B?${b64('Jörg Müller')}?= <Joerg.Mueller@NHS.net>`,
        'Subject: a long',
        '\tsubject line',
        'Message-ID: abc@example.org',
        '',
        'body',
      ]),
    );
    expect(found).toEqual({
      malformed: false,
      from: ['joerg.mueller@nhs.net'],
      messageId: '<abc@example.org>',
      subject: 'a long subject line',
    });
    expect((await check(crlf(['From: "Smith, =?UTF-8?Q?J=C3=B6rg?=" <J.Smith@nhs.net>', '', 'b']))).from).toEqual([
      'j.smith@nhs.net',
    ]);
  });

  it('sees a [secure] subject given as encoded words', async () => {
    const base64 = await check(
      crlf(['From: a@nhs.net', `Subject: =?UTF-8?B?${b64('[secure] results for J. Smith')}?=`, '', 'b']),
    );
    expect(base64.subject).toBe('[secure] results for J. Smith');
    const split = await check(
      crlf(['From: a@nhs.net', 'Subject: =?UTF-8?Q?=5Bsec?= =?UTF-8?Q?ure=5D_bloods?=', '', 'b']),
    );
    expect(split.subject).toBe('[secure] bloods');
    // 8-bit UTF-8 straight in the header, and a subject too long for the column
    expect((await check(Buffer.from('Subject: Grüße\r\n\r\nb'))).subject).toBe('Grüße');
    expect((await check(`Subject: ${'x'.repeat(1200)}\r\n\r\nb`)).subject).toHaveLength(998);
  });

  it('takes the first From header, every mailbox in it, no group and no address hidden in an encoded word', async () => {
    expect((await check(crlf(['From: a@x.org, B <b@Y.org>', 'From: c@x.org', '', 'b']))).from).toEqual([
      'a@x.org',
      'b@y.org',
    ]);
    expect((await check(crlf(['From: undisclosed-recipients:;', '', 'b']))).from).toEqual([]);
    expect((await check(crlf(['Subject: no from', '', 'b']))).from).toEqual([]);
    // An encoded word in the address part counts only when it decodes to a plain local@domain.
    expect((await check(crlf([`From: =?UTF-8?B?${b64('ceo')}?=@bank.com`, '', 'b']))).from).toEqual(['ceo@bank.com']);
    expect((await check(crlf([`From: =?UTF-8?B?${b64('ceo@bank.com')}?=`, '', 'b']))).from).toEqual([]);
    expect((await check(crlf([`From: =?UTF-8?B?${b64('a b <ceo@bank.com>')}?=@evil.org`, '', 'b']))).from).toEqual([]);
    expect((await check(crlf(['From: a@xn--mller-kva.de', '', 'b']))).from).toEqual(['a@müller.de']);
  });

  const octet = 'Content-Type: application/octet-stream';
  it.each([
    ['an RFC 2231 filename', [octet, "Content-Disposition: attachment; filename*=utf-8''setup%2Eexe"], 'setup.exe'],
    [
      'an RFC 2231 continued filename',
      [octet, 'Content-Disposition: attachment;', ' filename*0="set";', ' filename*1="up.bat"'],
      'setup.bat',
    ],
    [
      'an encoded RFC 2231 continuation',
      [octet, 'Content-Disposition: attachment;', " filename*0*=utf-8''r%C3%A9sum%C3%A9;", ' filename*1*=%2Evbs'],
      'r?sum?.vbs',
    ],
    [
      'an encoded-word filename',
      [octet, `Content-Disposition: attachment; filename="=?UTF-8?B?${b64('invoice.pdf.js')}?="`],
      'invoice.pdf.js',
    ],
    ['a Content-Type name only', ['Content-Type: application/pdf; name="run.bat"'], 'run.bat'],
    [
      'an encoded-word Content-Type name only',
      ['Content-Type: application/pdf; name="=?UTF-8?Q?budget=2Exlsm?="'],
      'budget.xlsm',
    ],
    ['an RFC 2231 Content-Type name only', ["Content-Type: application/pdf; name*=utf-8''run%2Ecmd"], 'run.cmd'],
    ['a filename and no Content-Type', ['Content-Disposition: attachment; filename="x.exe"'], 'x.exe'],
  ])('refuses a blocked attachment named by %s', async (_how, headers, shown) => {
    const found = await check(mixed(attachment(...headers)));
    expect(found.malformed).toBe(false);
    expect(found.blocked?.startsWith(`'${shown}' is a blocked attachment type`)).toBe(true);
  });

  it('refuses by declared type, by the type an octet-stream name implies, and inline parts as well', async () => {
    expect((await check(mixed(attachment('Content-Type: application/x-msdownload')))).blocked).toMatch(
      /^an attachment is a blocked attachment type \(application\/x-msdownload/,
    );
    const implied = mixed(
      attachment('Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="lib.mjs"'),
    );
    expect((await check(implied)).blocked).toMatch(/^'lib\.mjs' is a blocked attachment type \(text\/javascript/);
    expect(await check(mixed(['Content-Type: text/javascript', '', 'alert(1)', '']))).toMatchObject({
      blocked: expect.stringMatching(/text\/javascript/),
    });
    expect(
      (await check(mixed(['Content-Type: text/plain; name="notes.exe"', 'Content-Disposition: inline', '', 'x', ''])))
        .blocked,
    ).toMatch(/^'notes\.exe'/);
  });

  it('lets allowed parts through, and decodes an RFC 2231 name once only', async () => {
    const pass = async (...headers: string[]): Promise<string | undefined> =>
      (await check(mixed(attachment(...headers)))).blocked;
    expect(
      await pass('Content-Type: application/pdf', 'Content-Disposition: attachment; filename="letter.pdf"'),
    ).toBeUndefined();
    expect(
      await pass('Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="data.bin"'),
    ).toBeUndefined();
    // Decoded once this is `a=?utf-8?Q?=2Eexe?=`, not a.exe.
    expect(
      await pass(
        'Content-Type: application/octet-stream',
        "Content-Disposition: attachment; filename*=utf-8''a%3D%3Futf-8%3FQ%3F%3D2Eexe%3F%3D",
      ),
    ).toBeUndefined();
  });

  it('judges a part by every name it carries: the disposition filename and the Content-Type name', async () => {
    const blocked = async (...headers: string[]): Promise<string | undefined> =>
      (await check(mixed(attachment(...headers)))).blocked;
    expect(
      await blocked(
        'Content-Type: application/octet-stream; name="evil.exe"',
        'Content-Disposition: attachment; filename="report.pdf"',
      ),
    ).toMatch(/^'evil\.exe' is a blocked attachment type \(\.exe/);
    expect(
      await blocked(
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Disposition: attachment; filename="run.bat"',
      ),
    ).toMatch(/^'run\.bat'/);
    // each name decoded as its own parameter: an encoded word in the type's name, RFC 2231 in the filename
    expect(
      await blocked(
        `Content-Type: application/pdf; name="=?UTF-8?B?${b64('setup.exe')}?="`,
        "Content-Disposition: attachment; filename*=utf-8''report%2Epdf",
      ),
    ).toMatch(/^'setup\.exe'/);
    // a harmless second name does not excuse a blocked first one, nor a blocked declared type
    expect(
      await blocked(
        'Content-Type: application/x-msdownload; name="a.pdf"',
        'Content-Disposition: attachment; filename="a.pdf"',
      ),
    ).toMatch(/application\/x-msdownload/);
    expect(
      await blocked('Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="b.pdf"'),
    ).toBeUndefined();
  });

  it('looks at every part of nested multiparts, whatever the chunking', async () => {
    const nested = (name: string): string =>
      crlf([
        'From: a@x.org',
        'Subject: nested',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        '--outer',
        'Content-Type: multipart/alternative; boundary="alt"',
        '',
        '--alt',
        'Content-Type: text/plain',
        '',
        'text',
        '--alt',
        'Content-Type: multipart/related; boundary="rel"',
        '',
        '--rel',
        'Content-Type: text/html',
        '',
        '<p>x</p>',
        '--rel',
        'Content-Type: image/png; name="logo.png"',
        'Content-Transfer-Encoding: base64',
        '',
        b64('png'),
        '--rel',
        'Content-Type: application/octet-stream',
        `Content-Disposition: inline; filename*=utf-8''${encodeURIComponent(name)}`,
        'Content-Transfer-Encoding: base64',
        '',
        b64('MZ'),
        '--rel--',
        '--alt--',
        '--outer--',
        '',
      ]);
    for (const size of [1, 7, 64 * 1024]) {
      expect((await check(nested('deep.scr'), size)).blocked).toMatch(/^'deep\.scr' is a blocked attachment type/);
      expect(await check(nested('deep.pdf'), size)).toEqual({
        malformed: false,
        from: ['a@x.org'],
        messageId: null,
        subject: 'nested',
      });
    }
  });

  it('opens an embedded message unless it is marked attachment and checks its parts, any other one as a single part', async () => {
    const rfc822 = (...headers: string[]): string =>
      mixed(['Content-Type: message/rfc822', ...headers, '', ...embedded('setup.exe')]);
    expect((await check(rfc822('Content-Disposition: inline'))).blocked).toMatch(/^'setup\.exe'/);
    // a forwarded message without a Content-Disposition is opened as well
    expect((await check(rfc822())).blocked).toMatch(/^'setup\.exe'/);
    expect((await check(rfc822('Content-Disposition: inline; filename="fwd.eml"'))).blocked).toMatch(/^'setup\.exe'/);
    // an opened message is still judged by its own names
    expect((await check(rfc822('Content-Disposition: inline; filename="x.exe"'))).blocked).toMatch(/^'x\.exe'/);
    // one marked attachment, which mailsplit does not open, is checked by a check of its own, and by its names
    expect((await check(rfc822('Content-Disposition: attachment; filename="fwd.eml"'))).blocked).toMatch(
      /^'setup\.exe'/,
    );
    expect((await check(rfc822('Content-Disposition: attachment; filename="x.exe"'))).blocked).toMatch(/^'x\.exe'/);
    // The embedded message's headers are not the message's.
    const top = await check(
      crlf([
        'From: outer@x.org',
        'Subject: outer',
        'Content-Type: message/rfc822',
        'Content-Disposition: inline',
        '',
        ...embedded('evil.exe'),
      ]),
    );
    expect(top).toMatchObject({
      from: ['outer@x.org'],
      subject: 'outer',
      blocked: expect.stringMatching(/^'evil\.exe'/),
    });
  });

  it('decodes a forwarded message that is base64 or quoted-printable encoded, or marked attachment, and checks its parts', async () => {
    const forwarded = (encoding: string, disposition: string, inner: string): string =>
      mixed([
        'Content-Type: message/rfc822',
        `Content-Disposition: ${disposition}`,
        `Content-Transfer-Encoding: ${encoding}`,
        '',
        encoding === 'base64'
          ? (b64(inner).match(/.{1,76}/g) ?? []).join('\r\n')
          : inner.replace(/=/g, '=3D').replace(/\r\n/g, '=0D=0A=\r\n'),
        '',
      ]);
    const setup = crlf(embedded('setup.exe'));
    const report = crlf(embedded('report.pdf'));
    for (const size of [1, 7, 64 * 1024]) {
      for (const encoding of ['base64', 'quoted-printable']) {
        for (const disposition of ['inline', 'attachment; filename="fwd.eml"']) {
          expect((await check(forwarded(encoding, disposition, setup), size)).blocked).toMatch(/^'setup\.exe'/);
          expect(await check(forwarded(encoding, disposition, report), size)).toMatchObject({
            malformed: false,
            blocked: undefined,
            from: ['jane.smith@nhs.net'],
            subject: 'parts',
          });
        }
      }
    }
  });

  it('checks forwarded messages inside forwarded messages, each encoded, and refuses nesting deeper than it checks', async () => {
    const wrap = (inner: string): string =>
      crlf([
        'From: fwd@example.org',
        'Subject: fwd',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="w"',
        '',
        '--w',
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment; filename="fwd.eml"',
        'Content-Transfer-Encoding: base64',
        '',
        b64(inner),
        '--w--',
        '',
      ]);
    const nested = (levels: number, name: string): string => {
      let message = crlf(embedded(name));
      for (let n = 0; n < levels; n += 1) message = wrap(message);
      return message;
    };
    expect((await check(nested(3, 'evil.vbs'))).blocked).toMatch(/^'evil\.vbs'/);
    expect(await check(nested(MAX_EMBEDDED_DEPTH, 'notes.txt'))).toMatchObject({
      malformed: false,
      blocked: undefined,
    });
    expect((await check(nested(MAX_EMBEDDED_DEPTH + 1, 'notes.txt'))).malformed).toBe(true);
    // A forwarded message over 1,000 parts: the splitter inside gives up, and so does the check.
    const text = ['Content-Type: text/plain', '', 'x', ''];
    expect((await check(wrap(mixed(...Array.from({ length: 1000 }, () => text))))).malformed).toBe(true);
    // An encoded forwarded message that does not decode to MIME is one more broken message, not a refusal.
    expect(await check(wrap('@@@ not a message'))).toMatchObject({ malformed: false, blocked: undefined });
  });

  it('calls MIME malformed only where the splitter gives up: a header block over 1 MiB or over 1,000 parts', async () => {
    const text = ['Content-Type: text/plain', '', 'x', ''];
    expect((await check(`Subject: big\r\nX-Big: ${'a'.repeat(1024 * 1024 + 10)}\r\n\r\nb`)).malformed).toBe(true);
    expect((await check(`Subject: many\r\n${'X-A: b\r\n'.repeat(17000)}\r\nb`)).malformed).toBe(true);
    expect(
      (await check(mixed(['Content-Type: text/plain', `X-Big: ${'a'.repeat(1024 * 1024 + 10)}`, '', 'x', ''])))
        .malformed,
    ).toBe(true);
    expect((await check(mixed(...Array.from({ length: 1000 }, () => text)))).malformed).toBe(true);
    expect((await check(mixed(...Array.from({ length: 997 }, () => text)))).malformed).toBe(false);
    // malformed wins over a blocked part seen before the splitter gave up
    const both = await check(
      mixed(
        attachment('Content-Disposition: attachment; filename="setup.exe"'),
        ...Array.from({ length: 1000 }, () => text),
      ),
    );
    expect(both.malformed).toBe(true);
  });

  it.each([
    [
      'a multipart that never closes, with bad base64',
      'Subject: bad\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64!!!\r\n',
    ],
    ['headers only, unterminated', 'Subject: no body at all'],
    ['nothing at all', ''],
    [
      'a multipart without a boundary',
      crlf(['Content-Type: multipart/mixed', '', '--x', 'Content-Type: application/x-msdownload', '', 'MZ']),
    ],
    ['binary bytes', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))],
    ['a 3 MB line', `Subject: long\r\n\r\n${'A'.repeat(3 * 1024 * 1024)}`],
    [
      'a part with an empty Content-Type (which threw out of the relay before)',
      mixed(['Content-Type:', 'Content-Disposition: attachment', '', 'x', '']),
    ],
  ])('accepts broken MIME as it did before: %s', async (_what, raw) => {
    expect(await check(raw)).toMatchObject({ malformed: false, blocked: undefined });
  });

  it('still refuses a named part with an empty Content-Type, and reads LF-only messages', async () => {
    expect(
      (await check(mixed(['Content-Type:', 'Content-Disposition: attachment; filename="a.exe"', '', 'x', '']))).blocked,
    ).toMatch(/^'a\.exe'/);
    const lf = [
      'From: a@x.org',
      'Subject: lf',
      'Content-Type: multipart/mixed; boundary=z',
      '',
      '--z',
      'Content-Type: application/octet-stream; name=x.exe',
      '',
      'MZ',
      '--z--',
      '',
    ].join('\n');
    expect(await check(lf)).toMatchObject({
      from: ['a@x.org'],
      subject: 'lf',
      blocked: expect.stringMatching(/^'x\.exe'/),
    });
  });
});
