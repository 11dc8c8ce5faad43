import { Readable } from 'node:stream';
import {
  MHS_INBOUND_PIECE_BYTES,
  type LegacyInboundCommitRequest,
  type LegacyInboundDiscardRequest,
  type LegacyInboundPieceReply,
  type LegacyInboundPieceRequest,
  type LegacyInboundReply,
} from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import type { LegacyObjectStore, LegacyTransfers } from './legacy-transfers';
import { callerOrganisation } from '../transfers/start-transfer.usecase';

/** How many posted messages one replica reads back and takes at once (each is held while it is parsed). */
const ASSEMBLING_AT_ONCE = 2;

function invalid(diagnostics: string): PlatformError {
  return new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, { diagnostics });
}

/**
 * MHS messages posted to the gateway (`POST /gp2gp/mhs/inbound`), which streams each to gp2gp in pieces of at
 * most 512 KiB (NATS's 1 MB message limit stays), so that a COPC carrying a 5 MB fragment gets through. Each
 * piece goes to the fragment object store under the caller's organisation and the upload's ID (any replica
 * may take any piece; a piece sent again replaces itself); the commit reads them back in order as one MIME
 * message and hands it to the legacy transfers, then drops the pieces. Another organisation's commit of the
 * same upload ID reads its own (empty) pieces, never these.
 */
export class LegacyUploads {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly store: LegacyObjectStore,
    private readonly transfers: LegacyTransfers,
  ) {}

  private name(organisation: string, uploadId: string, index: number): string {
    return `legacy/upload/${organisation}/${uploadId.toLowerCase()}/${index}`;
  }

  async piece(request: LegacyInboundPieceRequest, context: CallContext): Promise<LegacyInboundPieceReply> {
    const organisation = callerOrganisation(context);
    const bytes = Buffer.from(request.data, 'base64');
    if (bytes.length === 0 || bytes.length > MHS_INBOUND_PIECE_BYTES) {
      throw invalid(`A piece holds between 1 and ${MHS_INBOUND_PIECE_BYTES} bytes`);
    }
    await this.store.put(
      this.name(organisation, request.uploadId, request.index),
      Readable.from([bytes]) as AsyncIterable<Uint8Array>,
    );
    return { uploadId: request.uploadId, index: request.index, size: bytes.length };
  }

  async commit(request: LegacyInboundCommitRequest, context: CallContext): Promise<LegacyInboundReply> {
    const organisation = callerOrganisation(context);
    if (/[\r\n]/.test(request.contentType)) throw invalid('The Content-Type holds a line break');
    const names = Array.from({ length: request.pieces }, (_, index) =>
      this.name(organisation, request.uploadId, index),
    );
    try {
      return await this.limited(async () => {
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (const name of names) {
          const source = await this.store.read(name);
          if (!source) throw invalid('A piece of the posted message is missing: post the message again');
          for await (const chunk of source) {
            size += chunk.length;
            if (size > request.size) throw invalid('The posted message is larger than its pieces said');
            chunks.push(chunk);
          }
        }
        if (size !== request.size) throw invalid('The posted message is not the size its pieces said');
        const raw = `Content-Type: ${request.contentType}\r\n\r\n${Buffer.concat(chunks, size).toString('utf8')}`;
        chunks.length = 0;
        return this.transfers.receiveMime(raw, context);
      });
    } finally {
      await Promise.all(names.map((name) => this.store.delete(name).catch(() => undefined)));
    }
  }

  /** A post that will not be committed: its pieces are dropped (those of the caller's organisation only). */
  async discard(request: LegacyInboundDiscardRequest, context: CallContext): Promise<{ discarded: number }> {
    const organisation = callerOrganisation(context);
    await Promise.all(
      Array.from({ length: request.pieces }, (_, index) =>
        this.store.delete(this.name(organisation, request.uploadId, index)).catch(() => undefined),
      ),
    );
    return { discarded: request.pieces };
  }

  /** At most ASSEMBLING_AT_ONCE messages held at once by this replica; the others wait their turn. */
  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= ASSEMBLING_AT_ONCE) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
