import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import {
  ERROR_STATES,
  GP2GP_EVENTS,
  MHS_INBOUND_MAX_BYTES,
  REASONS,
  type TransferFailedEvent,
  type LegacyInboundReply,
  type LegacyAttachmentPiece,
  type LegacyInboundRequest,
  type LegacyTransferReply,
  type OpenLegacyTransferRequest,
  type PollLegacyTransferRequest,
  type ReadLegacyAttachmentRequest,
  type ReasonCode,
  type TransferState,
} from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { withTransaction, type Outbox } from '@platform/shared-persistence';
import {
  ACKNOWLEDGEMENT,
  acknowledgementReason,
  attachmentBytes,
  COPC,
  EHR_EXTRACT,
  extractFacts,
  MhsMessageError,
  parseMhsMessage,
  type MhsMessage,
} from './mhs-message';
import { mimeToMhsJson } from './mhs-mime';
import { callerOrganisation } from '../transfers/start-transfer.usecase';

/** Where parts and reassembled documents are kept: the gp2gp fragment object store (FragmentStore). */
export interface LegacyObjectStore {
  put(name: string, bytes: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }>;
  read(name: string): Promise<AsyncIterable<Uint8Array> | null>;
  delete(name: string): Promise<void>;
  /**
   * Up to `maxBytes` of an object from its stored message at or after `position.seq` (FragmentStore.piece);
   * a `nuid` that is not the named object's chunk ID is answered 'foreign-cursor'.
   */
  piece(
    name: string,
    position: { seq: number; read: number; nuid?: string },
    size: number,
    maxBytes: number,
  ): Promise<{ bytes: Buffer; nextSeq: number; read: number; nuid: string } | 'foreign-cursor' | null>;
}

/** Data per attachment piece: base64 of it stays well under NATS's 1 MB message limit. */
const PIECE_BYTES = 512 * 1024;

interface TransferRow {
  conversation_id: string;
  requesting_ods: string;
  sending_ods: string;
  state: TransferState;
  reason_code: string | null;
  reason_detail: string | null;
  nhs_number: string | null;
  extract_message_id: string | null;
  extract_payload: string | null;
}

interface PartRow {
  part_id: string;
  kind: 'content' | 'index' | 'empty' | 'corrupt';
  object_name: string | null;
  size: string | null;
  sha256: string | null;
  fragment_ids: string[] | null;
}

interface DocumentRow {
  position: number;
  document_id: string;
  part_id: string;
  title: string | null;
  content_type: string;
  compressed: boolean;
  object_name: string | null;
  size: string | null;
  sha256: string | null;
}

/** A part as received, before it is recorded: its bytes are already in the object store. */
interface NewPart {
  partId: string;
  kind: PartRow['kind'];
  objectName: string | null;
  size: number | null;
  sha256: string | null;
  fragmentIds: string[] | null;
}

interface NewDocument {
  position: number;
  documentId: string;
  partId: string;
  title: string | null;
  contentType: string;
  compressed: boolean;
}

const FINAL: readonly string[] = ['MIGRATION_COMPLETED', ...ERROR_STATES];
const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/;
const FRAGMENT_NUMBER = /_(\d{1,6})\.messageattachment$/i;

/** A stored part whose bytes are not the ones recorded, or that is gone: the transfer fails with 29. */
class ReassemblyError extends Error {}

type Outcome =
  | { kind: 'pending' }
  | { kind: 'complete'; parts: Map<number, PartRow[]> }
  | { kind: 'failed'; code: ReasonCode; detail: string };

function notFound(): PlatformError {
  // Also the answer for another organisation's conversation: a caller cannot learn that it exists.
  return new PlatformError('GP2GP_TRANSFER_NOT_FOUND', undefined, { diagnostics: 'No such conversation' });
}

function safeContentType(...candidates: (string | null | undefined)[]): string {
  for (const candidate of candidates) {
    const value = candidate?.trim();
    if (value && CONTENT_TYPE.test(value)) return value.toLowerCase();
  }
  return 'application/octet-stream';
}

function once(bytes: Buffer): AsyncIterable<Uint8Array> {
  return Readable.from([bytes]) as AsyncIterable<Uint8Array>;
}

/**
 * Transfers from legacy practices: the requesting practice opens one naming the legacy practice, which sends
 * the HL7 V3 EHR extract (RCMR_IN030000UK06) and its large-message COPCs through gp2gp, in any order and
 * possibly more than once. Each part's bytes go to the object store before the message is recorded; the
 * message is recorded under a lock of its transfer, so that the message completing the transfer is seen once
 * and reassembles every attachment (streamed from its fragments, each SHA-256 checked) in that transaction.
 */
export class LegacyTransfers {
  private readonly schema: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
    private readonly store: LegacyObjectStore,
    private readonly outbox: Outbox,
  ) {
    this.schema = `"${schema}"`;
  }

  private table(name: string): string {
    return `${this.schema}.${name}`;
  }

  async open(request: OpenLegacyTransferRequest, context: CallContext): Promise<LegacyTransferReply> {
    const requestingOds = callerOrganisation(context);
    if (requestingOds === request.sendingOds) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: 'A practice cannot ask itself for a record',
      });
    }
    const conversationId = request.conversationId.toLowerCase();
    await this.pool.query(
      `INSERT INTO ${this.table('legacy_transfer')} (conversation_id, requesting_ods, sending_ods, state, opened_by)
       VALUES ($1, $2, $3, 'EHR_EXTRACT_REQUEST_ACCEPTED', $4) ON CONFLICT (conversation_id) DO NOTHING`,
      [conversationId, requestingOds, request.sendingOds, context.caller?.id ?? 'unknown'],
    );
    const row = await this.find(this.pool, conversationId);
    if (!row || row.requesting_ods !== requestingOds || row.sending_ods !== request.sendingOds) {
      throw new PlatformError('GP2GP_CONVERSATION_CONFLICT', undefined, {
        diagnostics: 'The conversation ID belongs to another transfer',
      });
    }
    return this.view(row);
  }

  async poll(request: PollLegacyTransferRequest, context: CallContext): Promise<LegacyTransferReply> {
    const organisation = callerOrganisation(context);
    const row = await this.find(this.pool, request.conversationId.toLowerCase());
    if (!row || row.requesting_ods !== organisation) throw notFound();
    const view = await this.view(row);
    if (row.state !== 'MIGRATION_COMPLETED') return view;
    const documents = await this.documents(this.pool, row.conversation_id);
    await this.pool.query(
      `INSERT INTO ${this.table('legacy_record_access')}
         (conversation_id, nhs_number, caller_id, organisation, action, request_id)
       VALUES ($1, $2, $3, $4, 'legacy.record.read', $5)`,
      [row.conversation_id, row.nhs_number, context.caller?.id ?? 'unknown', organisation, context.requestId],
    );
    return { ...view, bundleJson: JSON.stringify(this.bundle(row, documents)) };
  }

  /**
   * A piece of a completed transfer's attachment, for the requesting practice only; the first piece's read is
   * audited. The bytes are read from the object store's messages directly, so a piece costs its own size.
   */
  async readAttachment(request: ReadLegacyAttachmentRequest, context: CallContext): Promise<LegacyAttachmentPiece> {
    const organisation = callerOrganisation(context);
    const row = await this.find(this.pool, request.conversationId.toLowerCase());
    if (!row || row.requesting_ods !== organisation) throw notFound();
    const document = (await this.documents(this.pool, row.conversation_id)).find(
      (candidate) => candidate.position === request.position,
    );
    if (row.state !== 'MIGRATION_COMPLETED' || !document?.object_name || !document.sha256) throw notFound();
    const size = Number(document.size);
    // The cursor is the caller's: it names a position only. The object's chunk ID is looked up on every piece,
    // never taken from the cursor, so that a forged cursor cannot name another transfer's object.
    const [seq, read] = (request.cursor ?? '0.0').split('.').map(Number);
    if (read > size) throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The cursor is past the end' });
    if (!request.cursor) {
      await this.pool.query(
        `INSERT INTO ${this.table('legacy_record_access')}
           (conversation_id, nhs_number, caller_id, organisation, action, request_id)
         VALUES ($1, $2, $3, $4, 'legacy.attachment.read', $5)`,
        [row.conversation_id, row.nhs_number, context.caller?.id ?? 'unknown', organisation, context.requestId],
      );
    }
    const piece =
      size === 0
        ? { bytes: Buffer.alloc(0), nextSeq: 0, read: 0, nuid: '' }
        : await this.store.piece(document.object_name, { seq, read }, size, PIECE_BYTES);
    // No chunk ID is passed in, so the store never answers 'foreign-cursor' here.
    if (!piece || piece === 'foreign-cursor') throw notFound();
    return {
      data: piece.bytes.toString('base64'),
      ...(piece.read < size ? { cursor: `${piece.nextSeq}.${piece.read}` } : {}),
      size,
      contentType: document.content_type,
      sha256: document.sha256,
    };
  }

  /** One MHS inbound message from the legacy sending practice. */
  async receive(request: LegacyInboundRequest, context: CallContext): Promise<LegacyInboundReply> {
    const organisation = callerOrganisation(context);
    if ((request.message === undefined) === (request.mime === undefined)) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: 'Send the MHS message either as message (JSON) or as mime (multipart/related), not both',
      });
    }
    let message: MhsMessage;
    try {
      message = parseMhsMessage(request.mime === undefined ? request.message : mimeToMhsJson(request.mime));
    } catch (error) {
      if (!(error instanceof MhsMessageError)) throw error;
      throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, { diagnostics: error.message });
    }
    if (message.conversationId !== request.conversationId.toLowerCase()) {
      throw new PlatformError('GP2GP_MHS_MESSAGE_UNEXPECTED', undefined, {
        diagnostics: 'The ebXML ConversationId is not the conversation the message was sent for',
      });
    }
    return this.take(message, organisation);
  }

  /**
   * A whole MHS message as an MHS posts it (the gateway's `POST /gp2gp/mhs/inbound`, reassembled from its
   * pieces): its conversation is the one its ebXML names, and its inline attachments may be as large as the
   * route takes (a 5 MB fragment).
   */
  async receiveMime(raw: string, context: CallContext): Promise<LegacyInboundReply> {
    const organisation = callerOrganisation(context);
    let message: MhsMessage;
    try {
      message = parseMhsMessage(mimeToMhsJson(raw), { maxAttachmentChars: MHS_INBOUND_MAX_BYTES });
    } catch (error) {
      if (!(error instanceof MhsMessageError)) throw error;
      throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, { diagnostics: error.message });
    }
    return this.take(message, organisation);
  }

  /** Takes a checked message from the sending practice `organisation` into its transfer. */
  private async take(message: MhsMessage, organisation: string): Promise<LegacyInboundReply> {
    const conversationId = message.conversationId;
    const row = await this.find(this.pool, conversationId);
    if (!row || row.sending_ods !== organisation) throw notFound();
    const reply = (outcome: LegacyInboundReply['outcome'], state: string): LegacyInboundReply => ({
      conversationId,
      messageId: message.messageId,
      action: message.action,
      outcome,
      state,
    });
    if (await this.known(this.pool, conversationId, message.messageId)) return reply('duplicate', row.state);
    if (FINAL.includes(row.state)) {
      throw new PlatformError('GP2GP_TRANSFER_CLOSED', undefined, { diagnostics: `The transfer is ${row.state}` });
    }
    const facts = message.action === EHR_EXTRACT ? extractFacts(message) : null;
    if (facts?.authorOds && facts.authorOds !== row.sending_ods) {
      throw new PlatformError('GP2GP_MHS_MESSAGE_UNEXPECTED', undefined, {
        diagnostics: 'The EHR extract is authored by another organisation than the sending practice',
      });
    }
    const { parts, documents } = await this.storeParts(conversationId, message);
    const result = await withTransaction(this.pool, async (client) => {
      const locked = await this.find(client, conversationId, true);
      if (!locked) throw notFound();
      const inserted = await client.query(
        `INSERT INTO ${this.table('legacy_message')} (conversation_id, message_id, action) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [conversationId, message.messageId, message.action],
      );
      if (inserted.rowCount === 0) return { outcome: 'duplicate' as const, state: locked.state };
      if (FINAL.includes(locked.state)) {
        throw new PlatformError('GP2GP_TRANSFER_CLOSED', undefined, { diagnostics: `The transfer is ${locked.state}` });
      }
      for (const part of parts) await this.insertPart(client, conversationId, part);
      let state = locked.state;
      if (message.action === EHR_EXTRACT) {
        if (locked.extract_message_id) {
          throw new PlatformError('GP2GP_MHS_MESSAGE_UNEXPECTED', undefined, {
            diagnostics: 'The transfer already has its EHR extract',
          });
        }
        state = 'EHR_EXTRACT_RECEIVED';
        await client.query(
          `UPDATE ${this.table('legacy_transfer')} SET extract_message_id = $2, extract_payload = $3, nhs_number = $4
           WHERE conversation_id = $1`,
          [
            conversationId,
            message.messageId,
            message.payload,
            /^\d{10}$/.test(facts?.nhsNumber ?? '') ? facts?.nhsNumber : null,
          ],
        );
        for (const document of documents) await this.insertDocument(client, conversationId, document);
      } else if (message.action === COPC && locked.extract_message_id) {
        state = 'COPC_MESSAGE_RECEIVED';
      } else if (message.action === ACKNOWLEDGEMENT) {
        const ack = acknowledgementReason(message);
        if (ack.typeCode !== 'AA') {
          const code = (ack.reasonCode && ack.reasonCode in REASONS ? ack.reasonCode : '99') as ReasonCode;
          // The sending practice refused or could not send: its negative acknowledgement, as the NHS names it.
          return this.finish(
            client,
            conversationId,
            'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
            code,
            `negative acknowledgement ${ack.typeCode}`,
          );
        }
      }
      const outcome = await this.evaluate(client, conversationId);
      if (outcome.kind === 'failed') {
        return this.finish(client, conversationId, REASONS[outcome.code].state, outcome.code, outcome.detail);
      }
      if (outcome.kind === 'complete') {
        try {
          await this.reassemble(client, conversationId, outcome.parts);
        } catch (error) {
          if (!(error instanceof ReassemblyError)) throw error;
          return this.finish(client, conversationId, REASONS['29'].state, '29', error.message);
        }
        return this.finish(client, conversationId, 'MIGRATION_COMPLETED', null, null);
      }
      await this.setState(client, conversationId, state);
      return { outcome: 'accepted' as const, state };
    });
    if (FINAL.includes(result.state)) {
      this.outbox.kick();
      await this.purgeParts(conversationId, result.state !== 'MIGRATION_COMPLETED');
    }
    return reply(result.outcome, result.state);
  }

  /** Puts every attachment the message carries into the object store (again, harmlessly, on a retry). */
  private async storeParts(
    conversationId: string,
    message: MhsMessage,
  ): Promise<{ parts: NewPart[]; documents: NewDocument[] }> {
    const parts: NewPart[] = [];
    const documents: NewDocument[] = [];
    const content = async (partId: string, bytes: Buffer | null): Promise<NewPart> => {
      if (!bytes) return { partId, kind: 'corrupt', objectName: null, size: null, sha256: null, fragmentIds: null };
      const objectName = `legacy/${conversationId}/part/${partId}`;
      const stored = await this.store.put(objectName, once(bytes));
      return { partId, kind: 'content', objectName, ...stored, fragmentIds: null };
    };
    if (message.action === EHR_EXTRACT) {
      for (const [index, attachment] of message.attachments.entries()) {
        const partId = `${message.messageId}.${index}`;
        parts.push(await content(partId, attachmentBytes(attachment)));
        documents.push({
          position: documents.length,
          documentId: partId,
          partId,
          title: attachment.description.filename,
          contentType: attachment.description.compressed
            ? 'application/gzip'
            : safeContentType(attachment.description.contentType, attachment.contentType),
          compressed: attachment.description.compressed,
        });
      }
      for (const external of message.externalAttachments) {
        documents.push({
          position: documents.length,
          documentId: external.documentId,
          partId: external.messageId,
          title: external.description.filename ?? external.title,
          contentType: external.description.compressed
            ? 'application/gzip'
            : safeContentType(external.description.contentType),
          compressed: external.description.compressed,
        });
      }
    } else if (message.action === COPC) {
      if (
        message.attachments.length > 1 ||
        (message.attachments.length === 1 && message.externalAttachments.length > 0)
      ) {
        throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, {
          diagnostics: 'A COPC carries one attachment or one fragment index, not both or several',
        });
      }
      if (message.attachments.length === 1) {
        parts.push(await content(message.messageId, attachmentBytes(message.attachments[0])));
      } else if (message.externalAttachments.length > 0) {
        const order = (title: string | null, listed: number): number => {
          const number = FRAGMENT_NUMBER.exec(title ?? '');
          return number ? Number(number[1]) : listed;
        };
        const fragments = message.externalAttachments
          .map((item, listed) => ({
            id: item.messageId,
            order: order(item.title ?? item.description.filename, listed),
          }))
          .sort((a, b) => a.order - b.order);
        const ids = fragments.map((fragment) => fragment.id);
        if (new Set(ids).size !== ids.length || ids.includes(message.messageId)) {
          throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, {
            diagnostics: 'The fragment index names a fragment twice, or itself',
          });
        }
        parts.push({
          partId: message.messageId,
          kind: 'index',
          objectName: null,
          size: null,
          sha256: null,
          fragmentIds: ids,
        });
      } else {
        parts.push({
          partId: message.messageId,
          kind: 'empty',
          objectName: null,
          size: null,
          sha256: null,
          fragmentIds: null,
        });
      }
    }
    return { parts, documents };
  }

  /** Pending until every document's parts are here; failed with 31 (not received) or 29 (cannot be reassembled). */
  private async evaluate(client: PoolClient, conversationId: string): Promise<Outcome> {
    const transfer = await this.find(client, conversationId);
    if (!transfer?.extract_message_id) return { kind: 'pending' };
    const documents = await this.documents(client, conversationId);
    const rows = await client.query<PartRow>(
      `SELECT part_id, kind, object_name, size, sha256, fragment_ids FROM ${this.table('legacy_part')}
       WHERE conversation_id = $1`,
      [conversationId],
    );
    const byId = new Map(rows.rows.map((row) => [row.part_id, row]));
    const resolved = new Map<number, PartRow[]>();
    let pending = false;
    for (const document of documents) {
      const head = byId.get(document.part_id);
      if (!head) {
        pending = true;
        continue;
      }
      const chain = head.kind === 'index' ? (head.fragment_ids ?? []).map((id) => byId.get(id)) : [head];
      for (const part of chain) {
        if (part?.kind === 'empty') {
          return {
            kind: 'failed',
            code: '31',
            detail: `an attachment of document ${document.position} was not received`,
          };
        }
        if (part?.kind === 'corrupt' || part?.kind === 'index') {
          return {
            kind: 'failed',
            code: '29',
            detail: `an attachment of document ${document.position} cannot be reassembled`,
          };
        }
      }
      if (chain.some((part) => part === undefined)) pending = true;
      else resolved.set(document.position, chain as PartRow[]);
    }
    return pending ? { kind: 'pending' } : { kind: 'complete', parts: resolved };
  }

  /**
   * Streams each document's parts, in order, into one object (a single part is the document already), checking
   * every part's SHA-256 against the one recorded when it arrived; then records the document's size and hash.
   */
  private async reassemble(client: PoolClient, conversationId: string, parts: Map<number, PartRow[]>): Promise<void> {
    for (const [position, chain] of parts) {
      const streamed = this.streamParts(chain);
      let objectName: string;
      let stored: { sha256: string; size: number };
      if (chain.length === 1) {
        objectName = chain[0].object_name as string;
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of streamed) {
          hash.update(chunk);
          size += chunk.length;
        }
        stored = { sha256: hash.digest('hex'), size };
      } else {
        objectName = `legacy/${conversationId}/document/${position}`;
        stored = await this.store.put(objectName, streamed);
      }
      await client.query(
        `UPDATE ${this.table('legacy_document')} SET object_name = $3, size = $4, sha256 = $5
         WHERE conversation_id = $1 AND position = $2`,
        [conversationId, position, objectName, stored.size, stored.sha256],
      );
    }
  }

  private async *streamParts(chain: PartRow[]): AsyncIterable<Uint8Array> {
    for (const part of chain) {
      let source: AsyncIterable<Uint8Array> | null;
      try {
        source = await this.store.read(part.object_name as string);
      } catch {
        source = null;
      }
      if (!source) throw new ReassemblyError(`a fragment is missing from the object store`);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      } catch (error) {
        if (error instanceof ReassemblyError) throw error;
        throw new ReassemblyError('a fragment failed its object store digest');
      }
      if (hash.digest('hex') !== part.sha256 || String(size) !== String(part.size)) {
        throw new ReassemblyError('a fragment is not the bytes that arrived (SHA-256 differs)');
      }
    }
  }

  private async finish(
    client: PoolClient,
    conversationId: string,
    state: TransferState,
    code: ReasonCode | null,
    detail: string | null,
  ): Promise<{ outcome: 'accepted'; state: TransferState }> {
    const updated = await client.query<{ requesting_ods: string; sending_ods: string }>(
      `UPDATE ${this.table('legacy_transfer')} SET state = $2, reason_code = $3, reason_detail = $4, updated_at = now()
       WHERE conversation_id = $1 RETURNING requesting_ods, sending_ods`,
      [conversationId, state, code, detail],
    );
    if (code) {
      const event: TransferFailedEvent = {
        conversationId,
        requestingOds: updated.rows[0].requesting_ods,
        sendingOds: updated.rows[0].sending_ods,
        reasonCode: code,
        // The record did not arrive whole (large-message failures): the sending practice must print it.
        printRecord: code === '29' || code === '30' || code === '31',
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(client, GP2GP_EVENTS.transferFailed, event, {
        requestId: `gp2gp-legacy:${conversationId}`,
        correlationId: conversationId,
      });
    }
    return { outcome: 'accepted', state };
  }

  private async setState(client: PoolClient, conversationId: string, state: TransferState): Promise<void> {
    await client.query(
      `UPDATE ${this.table('legacy_transfer')} SET state = $2, updated_at = now() WHERE conversation_id = $1`,
      [conversationId, state],
    );
  }

  /** Fragments are dropped once their document is reassembled; everything is dropped when the transfer failed. */
  private async purgeParts(conversationId: string, everything: boolean): Promise<void> {
    const rows = await this.pool.query<{ object_name: string }>(
      `SELECT p.object_name FROM ${this.table('legacy_part')} p
       WHERE p.conversation_id = $1 AND p.object_name IS NOT NULL
         AND ($2 OR NOT EXISTS (SELECT 1 FROM ${this.table('legacy_document')} d
                                WHERE d.conversation_id = p.conversation_id AND d.object_name = p.object_name))
       UNION SELECT d.object_name FROM ${this.table('legacy_document')} d
       WHERE $2 AND d.conversation_id = $1 AND d.object_name IS NOT NULL`,
      [conversationId, everything],
    );
    for (const row of rows.rows) await this.store.delete(row.object_name);
  }

  private async insertPart(client: PoolClient, conversationId: string, part: NewPart): Promise<void> {
    await client.query(
      `INSERT INTO ${this.table('legacy_part')} (conversation_id, part_id, kind, object_name, size, sha256, fragment_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [conversationId, part.partId, part.kind, part.objectName, part.size, part.sha256, part.fragmentIds],
    );
  }

  private async insertDocument(client: PoolClient, conversationId: string, document: NewDocument): Promise<void> {
    await client.query(
      `INSERT INTO ${this.table('legacy_document')}
         (conversation_id, position, document_id, part_id, title, content_type, compressed)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        conversationId,
        document.position,
        document.documentId,
        document.partId,
        document.title,
        document.contentType,
        document.compressed,
      ],
    );
  }

  private async find(db: Pool | PoolClient, conversationId: string, lock = false): Promise<TransferRow | undefined> {
    const result = await db.query<TransferRow>(
      `SELECT conversation_id, requesting_ods, sending_ods, state, reason_code, reason_detail, nhs_number,
              extract_message_id, extract_payload
       FROM ${this.table('legacy_transfer')} WHERE conversation_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [conversationId],
    );
    return result.rows[0];
  }

  private async known(db: Pool | PoolClient, conversationId: string, messageId: string): Promise<boolean> {
    const result = await db.query(
      `SELECT 1 FROM ${this.table('legacy_message')} WHERE conversation_id = $1 AND message_id = $2`,
      [conversationId, messageId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  private async documents(db: Pool | PoolClient, conversationId: string): Promise<DocumentRow[]> {
    const result = await db.query<DocumentRow>(
      `SELECT position, document_id, part_id, title, content_type, compressed, object_name, size, sha256
       FROM ${this.table('legacy_document')} WHERE conversation_id = $1 ORDER BY position`,
      [conversationId],
    );
    return result.rows;
  }

  private async view(row: TransferRow): Promise<LegacyTransferReply> {
    const counts = await this.pool.query<{ total: number; stored: number }>(
      `SELECT count(*)::int AS total, count(sha256)::int AS stored FROM ${this.table('legacy_document')}
       WHERE conversation_id = $1`,
      [row.conversation_id],
    );
    const code = row.reason_code as ReasonCode | null;
    return {
      conversationId: row.conversation_id,
      state: row.state,
      requestingOds: row.requesting_ods,
      sendingOds: row.sending_ods,
      reason: code && code in REASONS ? { code, display: REASONS[code].display } : null,
      documents: counts.rows[0].total,
      documentsStored: counts.rows[0].stored,
    };
  }

  /**
   * The record for the requesting practice: the HL7 V3 extract as it arrived, in a Binary (not translated into
   * FHIR), and a DocumentReference per attachment naming its object, size and SHA-256.
   */
  private bundle(row: TransferRow, documents: DocumentRow[]): Record<string, unknown> {
    const binaryId = (row.extract_message_id ?? row.conversation_id).toLowerCase();
    return {
      resourceType: 'Bundle',
      id: row.conversation_id,
      type: 'collection',
      entry: [
        {
          fullUrl: `Binary/${binaryId}`,
          resource: {
            resourceType: 'Binary',
            id: binaryId,
            contentType: 'application/hl7-v3+xml',
            data: Buffer.from(row.extract_payload ?? '', 'utf8').toString('base64'),
          },
        },
        ...documents.map((document) => ({
          fullUrl: `DocumentReference/${document.document_id}`,
          resource: {
            resourceType: 'DocumentReference',
            id: document.document_id,
            identifier: [{ system: 'urn:nhs-platform:gp2gp:legacy-document', value: document.document_id }],
            status: 'current',
            ...(document.title ? { description: document.title } : {}),
            content: [
              {
                attachment: {
                  contentType: document.content_type,
                  // Read through gp2gp.legacy.attachment.read.v1 with the conversation and this position.
                  url: `urn:nhs-platform:gp2gp:legacy-attachment:${row.conversation_id}/${document.position}`,
                  size: Number(document.size),
                  ...(document.title ? { title: document.title } : {}),
                },
              },
            ],
            context: { related: [{ reference: `Binary/${binaryId}` }] },
            extension: [{ url: 'urn:nhs-platform:gp2gp:sha256', valueString: document.sha256 }],
          },
        })),
      ],
    };
  }
}
