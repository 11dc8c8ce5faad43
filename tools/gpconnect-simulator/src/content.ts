import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Bytes are produced in blocks of this size; a block is the most the simulator holds of a document at once. */
const BLOCK = 64 * 1024;

/** The AES key of one document: the NHS number and the document's position, so every read gives the same bytes. */
function keyOf(seed: string): Buffer {
  return createHash('sha256').update(`gpconnect-simulator:${seed}`).digest().subarray(0, 16);
}

/** The counter block that starts at byte `offset` (AES-CTR: block n encrypts counter n). */
function counterAt(offset: number): Buffer {
  const iv = Buffer.alloc(16);
  const block = Math.floor(offset / 16);
  iv.writeUInt32BE(Math.floor(block / 2 ** 32), 8);
  iv.writeUInt32BE(block % 2 ** 32, 12);
  return iv;
}

/**
 * A document's bytes from `start` (inclusive) to `end` (exclusive), generated as they are read: the AES-CTR
 * keystream of the document's key, so any range of any size is the same bytes a full read gives there, and
 * nothing is built in memory beyond one block.
 */
export function documentStream(seed: string, start: number, end: number, bytesPerSecond?: number): Readable {
  const cipher = createCipheriv('aes-128-ctr', keyOf(seed), counterAt(start));
  // The keystream starts at the 16-byte block holding `start`: drop the bytes before it.
  let skip = start % 16;
  let position = start;
  const zeros = Buffer.alloc(BLOCK + 16);
  const startedAt = Date.now();
  return new Readable({
    highWaterMark: BLOCK,
    read() {
      if (position >= end) {
        this.push(null);
        return;
      }
      const length = Math.min(BLOCK, end - position);
      const produce = (): void => {
        const bytes = cipher.update(zeros.subarray(0, length + skip)).subarray(skip);
        skip = 0;
        position += bytes.length;
        this.push(bytes);
      };
      if (!bytesPerSecond) return produce();
      // A slow practice system: never ahead of bytesPerSecond since the read began.
      const due = startedAt + ((position - start) / bytesPerSecond) * 1000;
      setTimeout(produce, Math.max(0, due - Date.now()));
    },
  });
}

/** The SHA-256 (hex) of a whole document, computed by streaming it: what a test compares delivered bytes to. */
export async function documentSha256(seed: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of documentStream(seed, 0, size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
