import { createHash } from 'node:crypto';
import { StorageType, type JetStreamManager, type MsgRequest, type NatsConnection, type ObjectStore } from 'nats';
import { GP2GP_FRAGMENT_BUCKET } from '@platform/contracts-gp2gp';

/**
 * Size of the store's messages: 256 KiB (nats.js's default is 128 KiB), so that a piece of 512 KiB for the
 * requester is two direct gets, and a message stays far under NATS's 1 MB.
 */
const CHUNK_BYTES = 256 * 1024;

/** The object-store stream behind the bucket (nats.js's naming, ADR-20 of NATS). */
const STREAM = `OBJ_${GP2GP_FRAGMENT_BUCKET}`;

/**
 * Fragments of attachments in JetStream's object store: each fragment (at most the fragment size, 4.5 MB) is
 * one object, which the store itself cuts into 128 KiB messages, so nothing on NATS exceeds its 1 MB message
 * limit. Putting a fragment again under the same name replaces it, so a step repeated after a crash stores it
 * once.
 */
export class FragmentStore {
  private constructor(
    private readonly bucket: ObjectStore,
    private readonly manager: JetStreamManager,
  ) {}

  static async open(nats: NatsConnection, maxBytes: number): Promise<FragmentStore> {
    const bucket = await nats.jetstream().views.os(GP2GP_FRAGMENT_BUCKET, {
      description: 'GP2GP attachment fragments between the sending and the requesting practice',
      storage: StorageType.File,
      ...(maxBytes > 0 ? { max_bytes: maxBytes } : {}),
    });
    return new FragmentStore(bucket, await nats.jetstreamManager());
  }

  /** Stores a fragment from a stream of its bytes; answers its SHA-256 (hex) and size as stored. */
  async put(name: string, bytes: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    const iterator = bytes[Symbol.asyncIterator]();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          return;
        }
        hash.update(next.value);
        size += next.value.length;
        controller.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    });
    await this.bucket.put({ name, options: { max_chunk_size: CHUNK_BYTES } }, stream);
    return { sha256: hash.digest('hex'), size };
  }

  /** A stored fragment's bytes as they are read, or null when it is not there. */
  async read(name: string): Promise<AsyncIterable<Uint8Array> | null> {
    const result = await this.bucket.get(name);
    if (!result) return null;
    const reader = result.data.getReader();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
        // The store checks the object's own digest once it has read it all.
        const error = await result.error;
        if (error) throw error;
      },
    };
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
    const subject = `$O.${GP2GP_FRAGMENT_BUCKET}.C.${nuid}`;
    const chunks: Buffer[] = [];
    let length = 0;
    let next = position.seq;
    let read = position.read;
    while (read < size && length < maxBytes) {
      // STREAM.MSG.GET with next_by_subj: the first message at or after `seq` on the object's chunk subject.
      const query = { seq: Math.max(next, 1), next_by_subj: subject } as unknown as MsgRequest;
      const message = await this.manager.streams.getMessage(STREAM, query).catch(() => null);
      if (!message) return null;
      chunks.push(Buffer.from(message.data));
      length += message.data.length;
      read += message.data.length;
      next = message.seq + 1;
    }
    return { bytes: Buffer.concat(chunks), nextSeq: next, read, nuid };
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
