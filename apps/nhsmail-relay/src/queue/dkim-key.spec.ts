import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';

/**
 * The delivery worker gives nodemailer its DKIM key parsed once (a KeyObject) instead of PEM text parsed at
 * every signature. RSA PKCS#1 v1.5 signatures are deterministic: the same message must be signed identically.
 */
describe('DKIM with the key parsed once', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const raw = [
    'From: sender@nhs.net',
    'To: someone@example.org',
    'Subject: signed',
    'Message-ID: <fixed@nhs.net>',
    'Date: Sat, 05 Dec 2026 20:00:00 +0000',
    '',
    'hello',
    '',
  ].join('\r\n');
  const signed = async (privateKey: unknown): Promise<string> => {
    const transport = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      dkim: { domainName: 'nhs.net', keySelector: 'relay', privateKey },
    } as Parameters<typeof nodemailer.createTransport>[0]);
    const info = (await transport.sendMail({
      envelope: { from: 'sender@nhs.net', to: ['someone@example.org'] },
      raw,
    })) as { message: Buffer };
    return info.message.toString('latin1');
  };

  it('signs 30 messages at once exactly as with the PEM text', async () => {
    const key = createPrivateKey(pem);
    const expected = await signed(pem);
    expect(expected).toMatch(
      /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=nhs\.net;[\s\S]*b=[A-Za-z0-9+/=\r\n ]{300,}/,
    );
    const all = await Promise.all(Array.from({ length: 30 }, () => signed(key)));
    for (const message of all) expect(message).toBe(expected);
  });
});
