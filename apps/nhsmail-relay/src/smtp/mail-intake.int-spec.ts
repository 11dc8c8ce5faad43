import 'reflect-metadata';
import {
  createJaneSmith,
  createJohnJones,
  eventually,
  type NhsmailRelayUnderTest,
  SmtpTalk,
  startNhsmailRelayUnderTest,
  submissionClient,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('the DATA check on real SMTP and PostgreSQL: what the MIME split reads and refuses', () => {
  let relay: NhsmailRelayUnderTest;

  const stored = async (
    messageId: string,
  ): Promise<{ from_header: string | null; subject: string | null; message_id: string | null } | undefined> =>
    (
      await relay.db.query<{ from_header: string | null; subject: string | null; message_id: string | null }>(
        `SELECT from_header, subject, message_id FROM "${relay.schema}".message WHERE message_id = $1`,
        [messageId],
      )
    ).rows[0];

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_intake' });
    await createJaneSmith(relay, PASSWORD);
    await createJohnJones(relay);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('stores the decoded Subject, the From address and the Message-ID, and refuses as before', async () => {
    const { talk } = await SmtpTalk.open(relay.relayPort);
    await talk.send('EHLO outside.example');
    const send = (message: string): Promise<string> => talk.mail('a@outside.example', 'john.jones@nhs.net', message);
    const multipart = (...part: string[]): string =>
      [
        'From: a@outside.example',
        'Subject: parts',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'hello',
        '--b1',
        ...part,
        '--b1--',
        '',
      ].join('\r\n');

    const secure = [
      `From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <Joerg.Mueller@Outside.example>`,
      `Subject: =?UTF-8?B?${b64('[secure] bloods for J. Smith')}?=`,
      'Message-ID: intake-1@outside.example',
      '',
      'results',
    ].join('\r\n');
    expect(await send(secure)).toMatch(/^250 /);
    expect(await stored('<intake-1@outside.example>')).toEqual({
      from_header: 'joerg.mueller@outside.example',
      subject: '[secure] bloods for J. Smith',
      message_id: '<intake-1@outside.example>',
    });

    expect(
      await send(
        multipart(
          'Content-Type: application/octet-stream',
          "Content-Disposition: attachment; filename*=utf-8''setup%2Eexe",
          '',
          b64('MZ'),
        ),
      ),
    ).toBe(
      "550 5.7.1 Message refused: 'setup.exe' is a blocked attachment type (.exe: executables, scripts and macro-enabled Office files are not accepted)",
    );
    expect(await send(multipart('Content-Type: application/pdf; name="=?UTF-8?B?cnVuLmJhdA==?="', '', 'x'))).toMatch(
      /^550 5\.7\.1 Message refused: 'run\.bat' is a blocked attachment type/,
    );
    // A forwarded message, base64-encoded and marked attachment, holding an executable: decoded and refused.
    const forwarded = multipart(
      'Content-Type: text/plain',
      '',
      'x',
      '--b1',
      'Content-Type: application/x-msdownload; name="tool.exe"',
      '',
      'MZ',
    ).replace('From: a@outside.example', 'From: inner@outside.example');
    expect(
      await send(
        multipart(
          'Content-Type: message/rfc822',
          'Content-Disposition: attachment; filename="fwd.eml"',
          'Content-Transfer-Encoding: base64',
          '',
          b64(forwarded),
        ),
      ),
    ).toMatch(/^550 5\.7\.1 Message refused: 'tool\.exe' is a blocked attachment type/);
    const parts = Array.from({ length: 1000 }, () => ['--b1', 'Content-Type: text/plain', '', 'x']).flat();
    expect(await send(multipart('Content-Type: text/plain', '', 'x', ...parts))).toBe(
      '554 5.6.0 The message is not well-formed MIME and was not accepted',
    );
    // A part whose Content-Type is empty: checked by name only (the mailparser check threw out of the process).
    expect(await send(multipart('Content-Type:', '', 'x'))).toMatch(/^250 /);
    expect(await talk.send('NOOP')).toMatch(/^250 /);
    talk.close();
  });

  it('checks the submission From by its address whatever the display name, encoded words included', async () => {
    const jane = submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: PASSWORD });
    await expect(
      jane.sendMail({
        from: { name: 'Jane Smïth (GP), Leeds', address: 'Jane.Smith@nhs.net' },
        to: 'john.jones@nhs.net',
        subject: 'named',
        text: 'x',
        messageId: '<intake-2@nhs.net>',
      }),
    ).resolves.toMatchObject({ response: expect.stringMatching(/^250 /) });
    expect(await stored('<intake-2@nhs.net>')).toMatchObject({ from_header: 'jane.smith@nhs.net', subject: 'named' });
    await expect(
      jane.sendMail({
        envelope: { from: 'jane.smith@nhs.net', to: ['john.jones@nhs.net'] },
        from: { name: 'Jane Smïth', address: 'john.jones@nhs.net' },
        to: 'john.jones@nhs.net',
        subject: 'forged',
        text: 'x',
      }),
    ).rejects.toMatchObject({
      responseCode: 553,
      response: expect.stringContaining('From header refused: jane.smith@nhs.net may not send as <john.jones@nhs.net>'),
    });
    jane.close();
  });
  it('drops what a client sent when it goes away in the middle of DATA, and keeps serving', async () => {
    const rows = async (): Promise<string[]> =>
      (
        await relay.db.query<{ state: string }>(
          `SELECT state FROM "${relay.schema}".message WHERE envelope_from = 'dropper@outside.example'`,
        )
      ).rows.map((row) => row.state);
    const { talk } = await SmtpTalk.open(relay.relayPort);
    await talk.send('EHLO outside.example');
    await talk.send('MAIL FROM:<dropper@outside.example>');
    await talk.send('RCPT TO:<john.jones@nhs.net>');
    expect(await talk.send('DATA')).toMatch(/^354 /);
    // more than two 256 KiB chunks of body: the spool has a `receiving` row and chunks by now
    talk.write(`From: dropper@outside.example\r\nSubject: cut off\r\n\r\n${'x'.repeat(998)}\r\n`);
    for (let i = 0; i < 600; i += 1) talk.write(`${'y'.repeat(998)}\r\n`);
    expect(await eventually(rows, (states) => states.length > 0)).toEqual(['receiving']);
    talk.close();
    expect(await eventually(rows, (states) => states.length === 0)).toEqual([]);

    const again = await SmtpTalk.open(relay.relayPort);
    await again.talk.send('EHLO outside.example');
    await again.talk.send('MAIL FROM:<dropper@outside.example>');
    await again.talk.send('RCPT TO:<john.jones@nhs.net>');
    expect(await again.talk.data('From: dropper@outside.example\r\nSubject: whole\r\n\r\nall of it')).toMatch(/^250 /);
    expect(await rows()).toEqual(['queued']);
    again.talk.close();
  });
});
