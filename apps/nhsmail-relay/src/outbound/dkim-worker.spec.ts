import { generateKeyPairSync } from 'node:crypto';
import { DkimWorker } from './dkim-worker';

const message = Buffer.from('From: jane.smith@nhs.net\r\nTo: someone@example.org\r\nSubject: results\r\n\r\nhello\r\n');

describe('DKIM signing thread', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;

  it('answers each message with its own signed copy', async () => {
    const worker = new DkimWorker({ domainName: 'nhs.net', keySelector: 'relay', privateKey: pem });
    try {
      const subjects = Array.from({ length: 30 }, (_, n) => `results ${n}`);
      const signed = await Promise.all(
        subjects.map((subject) => worker.sign(Buffer.from(message.toString().replace('results', subject)))),
      );
      signed.forEach((copy, n) => {
        const text = copy.toString('latin1');
        expect(text.startsWith('DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=nhs.net;')).toBe(true);
        expect(text.endsWith(`Subject: ${subjects[n]}\r\n\r\nhello\r\n`)).toBe(true);
      });
    } finally {
      await worker.close();
    }
  });

  it('fails a signature when the thread cannot sign, and again on the next one, rather than waiting', async () => {
    const worker = new DkimWorker({ domainName: 'nhs.net', keySelector: 'relay', privateKey: 'not a key' });
    try {
      await expect(worker.sign(message)).rejects.toThrow(/DKIM signing failed/);
      await expect(worker.sign(message)).rejects.toThrow(/DKIM signing failed/);
    } finally {
      await worker.close();
    }
  });

  it('fails the signatures outstanding when it is closed, and refuses new ones', async () => {
    const worker = new DkimWorker({ domainName: 'nhs.net', keySelector: 'relay', privateKey: pem });
    const outstanding = Array.from({ length: 20 }, () => worker.sign(message));
    await worker.close();
    const settled = await Promise.allSettled(outstanding);
    // Those signed before the close went through; the rest failed, and none is left waiting.
    expect(settled.length).toBe(20);
    expect(settled.some((result) => result.status === 'rejected')).toBe(true);
    await expect(worker.sign(message)).rejects.toThrow(/stopping/);
  });
});
