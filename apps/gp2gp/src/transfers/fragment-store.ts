import { createHash } from 'node:crypto';
import { StorageType, type NatsConnection, type ObjectStore } from 'nats';
import { GP2GP_FRAGMENT_BUCKET } from '@platform/contracts-gp2gp';

/**
 * Size of the store's messages: 512 KiB (nats.js's default is 128 KiB), so that a piece of 512 KiB for the
 * requester is one direct get, and a message stays under NATS's 1 MB.
 */
const CHUNK_BYTES = 512 * 1024;

/** The object-store stream behind the bucket (nats.js's naming, ADR-20 of NATS). */
const STREAM = `OBJ_${GP2GP_FRAGMENT_BUCKET}`;

/**
 * The object store did not answer (NATS restarting, JetStream busy): nothing is known about the fragment, so
 * the step is worth trying again. Distinct from a fragment missing or altered, which no retry mends.
 */
export class StoreUnavailable extends Error {}

/**
 * Fragments of attachments in JetStream's object store: each fragment (at most the fragment size, 4.5 MB) is
 * one object, which the store itself cuts into 128 KiB messages, so nothing on NATS exceeds its 1 MB message
 * limit. Putting a fragment again under the same name replaces it, so a step repeated after a crash stores it
 * once.
 */
export class FragmentStore {
  private constructor(
    private readonly bucket: ObjectStore,
    private readonly nats: NatsConnection,
  ) {}

  static async open(nats: NatsConnection, maxBytes: number): Promise<FragmentStore> {
    const bucket = await nats.jetstream().views.os(GP2GP_FRAGMENT_BUCKET, {
      description: 'GP2GP attachment fragments between the sending and the requesting practice',
      storage: StorageType.File,
      ...(maxBytes > 0 ? { max_bytes: maxBytes } : {}),
    });
    return new FragmentStore(bucket, nats);
  }

  /**
   * Stores a fragment from a stream of its bytes; answers its SHA-256 (hex) and size as stored.
   *
   * The fragment's bytes are gathered first (at most the fragment size) and handed to the store at once.
   * nats.js's object-store put publishes each 512 KiB message as soon as it has one but only waits for their
   * acknowledgements once its input has ended: a publish that fails while it is still reading (refused, or its
   * answer lost in a NATS restart: a timeout) is a promise rejection nobody handles yet, which ends the process
   * (issue 14: gp2gp exited mid-fragment, and its transfer waited for the lease to lapse, again and again).
   * Given the whole fragment, the put publishes every message and waits for them in the same turn, so such a
   * failure is the put's own error: the step is retried, and fails with its reason after the last try.
   */
  async put(name: string, bytes: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256');
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of bytes) {
      hash.update(part);
      size += part.length;
      parts.push(part);
    }
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts.splice(0)) controller.enqueue(part);
        controller.close();
      },
    });
    await this.bucket.put({ name, options: { max_chunk_size: CHUNK_BYTES } }, stream);
    return { sha256: hash.digest('hex'), size };
  }

  /**
   * A stored fragment's bytes as they are read, one store message at a time (direct gets: each asked for once
   * the last has been used, so at most a message is held), or null when it is not there.
   */
  async read(name: string): Promise<AsyncIterable<Uint8Array> | null> {
    const info = await this.bucket.info(name);
    if (!info || info.deleted) return null;
    const subject = this.chunkSubject(info.nuid);
    const read = (seq: number): Promise<{ data: Uint8Array; seq: number } | null> => this.chunk(seq, subject);
    return {
      async *[Symbol.asyncIterator]() {
        let length = 0;
        let next = 1;
        while (length < info.size) {
          const message = await read(next);
          if (!message) throw new Error(`the store has ${length} of the fragment's ${info.size} bytes`);
          length += message.data.length;
          next = message.seq + 1;
          yield message.data;
        }
      },
    };
  }

  /**
   * Whether a stored fragment is still the one recorded: there (not deleted), of its size, and with the store's
   * own digest (the SHA-256 nats.js computed over the bytes as it published them) equal to the SHA-256 (hex)
   * the worker computed over the same bytes as they came from the sending practice. A metadata read: no bytes.
   */
  async check(name: string, size: number, sha256: string): Promise<'ok' | 'missing' | 'altered'> {
    const info = await this.bucket.info(name);
    if (!info || info.deleted) return 'missing';
    // nats.js writes `SHA-256=` and the digest in padded base64url (older clients: base64); Node reads both.
    const stored = info.digest.startsWith('SHA-256=') ? Buffer.from(info.digest.slice(8), 'base64') : Buffer.alloc(0);
    return info.size === size && stored.toString('hex') === sha256 ? 'ok' : 'altered';
  }

  /**
   * Up to `maxBytes` of a fragment from the stored message at or after `seq` (0: its first): the messages are
   * read one by one by sequence, so a piece costs its own bytes, not a read of the fragment from its start.
   * Answers the bytes, the sequence to ask for next and the object's chunk ID (for the next piece's cursor).
   */
  async piece(
    name: string,
    position: { seq: number; read: number; nuid?: string },
    size: number,
    maxBytes: number,
  ): Promise<{ bytes: Buffer; nextSeq: number; read: number; nuid: string } | 'foreign-cursor' | null> {
    // The chunk subject comes from the object named here, never from the caller's cursor alone: chunk IDs of
    // one process run in sequence, so a cursor carrying another object's ID would otherwise read its bytes.
    const info = await this.bucket.info(name);
    if (!info || info.deleted || info.size !== size) return null;
    if (position.nuid !== undefined && position.nuid !== info.nuid) return 'foreign-cursor';
    const nuid = info.nuid;
    const subject = this.chunkSubject(nuid);
    const chunks: Uint8Array[] = [];
    let length = 0;
    let next = position.seq;
    let read = position.read;
    while (read < size && length < maxBytes) {
      const message = await this.chunk(next, subject);
      if (!message) return null;
      chunks.push(message.data);
      length += message.data.length;
      read += message.data.length;
      next = message.seq + 1;
    }
    const bytes =
      chunks.length === 1
        ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].length)
        : Buffer.concat(chunks);
    return { bytes, nextSeq: next, read, nuid };
  }

  private chunkSubject(nuid: string): string {
    return `$O.${GP2GP_FRAGMENT_BUCKET}.C.${nuid}`;
  }

  /**
   * The first message at or after `seq` on an object's chunk subject, raw: a direct get
   * (`$JS.API.DIRECT.GET.<stream>`, which the object store's stream allows), whose reply is the message's bytes
   * with its sequence in a header, not JSON with the bytes in base64 as `STREAM.MSG.GET` answers.
   */
  private async chunk(seq: number, subject: string): Promise<{ data: Uint8Array; seq: number } | null> {
    const query = JSON.stringify({ seq: Math.max(seq, 1), next_by_subj: subject });
    let reply;
    try {
      reply = await this.nats.request(`$JS.API.DIRECT.GET.${STREAM}`, query, { timeout: 10_000 });
    } catch (error) {
      // No answer in time, no responders (the stream's server away), the connection down: not an answer.
      throw new StoreUnavailable(`the object store did not answer: ${(error as Error).message}`);
    }
    // No such message: a status reply (404) without the message's headers. Another status (408, 503) is the
    // server's trouble, not the fragment's.
    if (reply.headers?.hasError && reply.headers.code !== 404) {
      throw new StoreUnavailable(`the object store answered ${reply.headers.code} ${reply.headers.description}`);
    }
    const found = Number(reply.headers?.get('Nats-Sequence'));
    if (reply.headers?.hasError || !Number.isSafeInteger(found) || found < 1) return null;
    return { data: reply.data, seq: found };
  }

  async delete(name: string): Promise<void> {
    await this.bucket.delete(name).catch(() => undefined);
  }

  /** Names of stored fragments whose name starts with `prefix` (for purging a transfer's). */
  async names(prefix: string): Promise<string[]> {
    const list = await this.bucket.list();
    return list.filter((entry) => !entry.deleted && entry.name.startsWith(prefix)).map((entry) => entry.name);
  }

  async usage(): Promise<{ bytes: number; maxBytes: number }> {
    const status = await this.bucket.status();
    const info = status.streamInfo;
    return { bytes: info.state.bytes, maxBytes: info.config.max_bytes };
  }
}
