import { Worker } from 'node:worker_threads';

/**
 * The worker's code: nodemailer's DKIM signer over a whole message, the signed copy posted back. Given as text
 * (a worker runs JavaScript, and the sources run as TypeScript under jest); it loads nodemailer from the path
 * the relay itself resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey } = require('node:crypto');
const loaded = require(workerData.dkimModule);
const DKIM = loaded.default || loaded;
const dkim = new DKIM({
  domainName: workerData.domainName,
  keySelector: workerData.keySelector,
  privateKey: createPrivateKey(workerData.privateKey),
});
parentPort.on('message', ({ id, content }) => {
  const chunks = [];
  const output = dkim.sign(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  output.on('data', (chunk) => chunks.push(chunk));
  output.on('end', () => {
    const signed = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      signed.set(chunk, at);
      at += chunk.length;
    }
    parentPort.postMessage({ id, signed }, [signed.buffer]);
  });
  output.on('error', (error) => parentPort.postMessage({ id, error: String((error && error.message) || error) }));
});
`;

export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PEM text. */
  privateKey: string;
}

interface Pending {
  resolve: (signed: Buffer) => void;
  reject: (error: Error) => void;
}

/**
 * DKIM signing of whole messages in a worker thread, so that the RSA signature (about 10% of the relay's main
 * thread under load, and the DKIM pipeline's streams besides) runs beside the SMTP and database work instead
 * of in front of it. One worker, started on first use; if it dies, what it held fails (a temporary failure:
 * the delivery is tried again) and the next signature starts another.
 */
export class DkimWorker {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly key: DkimKey) {}

  sign(content: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('4.3.2 The relay is stopping'));
    const worker = this.started();
    const id = (this.nextId += 1);
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // While a signature is outstanding the worker keeps the process alive; otherwise it does not.
      if (this.pending.size === 1) worker.ref();
      // A copy of its own, handed over: a Buffer is often a view of a larger one (the database client's read
      // buffer), and posting the view would copy all of that.
      const copy = new Uint8Array(content.length);
      copy.set(content);
      worker.postMessage({ id, content: copy }, [copy.buffer]);
    });
  }

  /** Stops the worker; signatures still outstanding fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.failAll(new Error('4.3.2 The relay is stopping'));
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...this.key, dkimModule: require.resolve('nodemailer/lib/dkim') },
    });
    worker.unref();
    worker.on('message', (reply: { id: number; signed?: Uint8Array; error?: string }) => {
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.signed) entry.resolve(Buffer.from(reply.signed.buffer, reply.signed.byteOffset, reply.signed.length));
      else entry.reject(new Error(`DKIM signing failed: ${reply.error ?? 'no signature'}`));
    });
    const gone = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(error);
    };
    worker.on('error', (error) => gone(new Error(`DKIM signing failed: ${error.message}`)));
    worker.on('exit', (code) => gone(new Error(`DKIM signing failed: the signing thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(error);
  }
}
