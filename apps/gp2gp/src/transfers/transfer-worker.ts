import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { GP2GP_EVENTS, REASONS, WORKING_STATES, type ReasonCode, type TransferState } from '@platform/contracts-gp2gp';
import type { Logger } from '@platform/shared-logging';
import { Outbox, withTransaction } from '@platform/shared-persistence';
import { GP2GP_SETTINGS, type Gp2gpSettings } from './clients';
import { appendFailed, workerContext } from './events';
import { FragmentStore, StoreUnavailable } from './fragment-store';
import { Gp2gpMetrics } from './metrics';
import { TransferRepository, type AttachmentRow, type NewAttachment, type TransferRow } from './transfer.repository';

export const GP2GP_LOGGER = Symbol('GP2GP_LOGGER');

/** A transfer that cannot succeed: it ends with this GP2GP reason code. */
export class TransferFailure extends Error {
  constructor(
    readonly reason: ReasonCode,
    detail: string,
  ) {
    super(detail);
  }
}

/** Another worker took the transfer over (this one was too slow to renew its lease): stop quietly. */
class LeaseLost extends Error {}

/** The sending practice's system did not answer, or answered 5xx: worth trying again later. */
class SenderUnavailable extends Error {}

/**
 * One claim of a transfer, run by this worker: `owner` is the claim's own token (the worker's ID and a random
 * part), written as the transfer's lease owner, so every conditional write of the run is refused once another
 * claim (another worker's, or a later one of this worker) holds it. `lost` is aborted when a renewal of the
 * lease finds it taken: the run's requests to the sending practice stop there.
 */
interface Run {
  row: TransferRow;
  owner: string;
  lost: AbortController;
}

const ERROR_PRINTS: readonly ReasonCode[] = ['10', '21', '25', '28', '29', '30', '31'];

/** Reads a response body up to `limit` bytes (TransferFailure 30 beyond it). */
async function readCapped(response: Response, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new TransferFailure('30', `The structured record is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Attachments of a structured record Bundle: each DocumentReference's first content attachment, whose address
 * must be on the sending practice's own GP Connect provider (the platform fetches nothing anywhere else).
 */
export function attachmentsOf(
  bundle: unknown,
  endpoint: string,
  nhsNumber: string,
  fragmentBytes: number,
): NewAttachment[] {
  const entries = (bundle as { resourceType?: unknown; entry?: unknown } | null)?.entry;
  if ((bundle as { resourceType?: unknown } | null)?.resourceType !== 'Bundle' || !Array.isArray(entries)) {
    throw new TransferFailure('21', 'The structured record is not a FHIR Bundle with entries');
  }
  const resources = entries.map((entry) => (entry as { resource?: Record<string, unknown> } | null)?.resource ?? {});
  const patient = resources.find((resource) => resource['resourceType'] === 'Patient');
  const identifiers = (patient?.['identifier'] as { system?: string; value?: string }[] | undefined) ?? [];
  if (
    !identifiers.some(
      (identifier) => identifier.system === 'https://fhir.nhs.uk/Id/nhs-number' && identifier.value === nhsNumber,
    )
  ) {
    throw new TransferFailure('28', 'The structured record is not the requested patient’s');
  }
  const origin = new URL(endpoint);
  const attachments: NewAttachment[] = [];
  for (const resource of resources) {
    if (resource['resourceType'] !== 'DocumentReference') continue;
    const attachment = (resource['content'] as { attachment?: Record<string, unknown> }[] | undefined)?.[0]?.attachment;
    const url = attachment?.['url'];
    const size = attachment?.['size'];
    let address: URL | undefined;
    try {
      address = typeof url === 'string' ? new URL(url) : undefined;
    } catch {
      address = undefined;
    }
    if (
      !address ||
      address.origin !== origin.origin ||
      !address.pathname.startsWith(origin.pathname) ||
      !Number.isSafeInteger(size) ||
      (size as number) < 0
    ) {
      throw new TransferFailure(
        '21',
        'A DocumentReference has no attachment on the sending practice’s provider, or no size',
      );
    }
    attachments.push({
      position: attachments.length,
      documentId: typeof resource['id'] === 'string' ? resource['id'] : `document-${attachments.length}`,
      sourceUrl: address.toString(),
      contentType:
        typeof attachment?.['contentType'] === 'string' ? attachment['contentType'] : 'application/octet-stream',
      title: typeof attachment?.['title'] === 'string' ? attachment['title'] : null,
      size: size as number,
      fragmentCount: Math.max(1, Math.ceil((size as number) / fragmentBytes)),
    });
  }
  return attachments;
}

/**
 * Moves accepted transfers forward, as durable steps: every step's outcome is in PostgreSQL before the next
 * begins, a worker holds a lease on the transfer it moves (renewed while it moves it, however long a step
 * takes), and a transfer whose worker died (the process was killed) is taken over once its lease lapses,
 * resuming after the last fragment recorded. A worker never claims a transfer it is moving, and each claim
 * writes under a token of its own, so a run whose lease was taken over writes nothing more. Fragments are
 * stored under names of their own and recorded once, so a repeated step neither loses nor duplicates one.
 *
 *   EHR_EXTRACT_REQUEST_ACCEPTED -> EHR_EXTRACT_RECEIVED   the structured record from the sender's GP Connect
 *   EHR_EXTRACT_RECEIVED -> CONTINUE_REQUEST_ACCEPTED       attachments follow (the continue)
 *   -> COPC_MESSAGE_RECEIVED                                fragments arriving, each streamed to the object store
 *   -> EHR_EXTRACT_TRANSLATED                               every attachment's fragment index and stored fragments checked
 *
 * It also ends transfers whose final acknowledgement is overdue (error 99) and purges closed transfers'
 * fragments.
 */
@Injectable()
export class TransferWorker {
  private readonly id = `gp2gp-worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing = false;
  private active = new Map<string, { run: Run; done: Promise<void> }>();
  private stopped = true;
  private ticking = false;
  private lastSweep = 0;

  constructor(
    private readonly transfers: TransferRepository,
    private readonly store: FragmentStore,
    private readonly outbox: Outbox,
    private readonly metrics: Gp2gpMetrics,
    @Inject(GP2GP_SETTINGS) private readonly settings: Gp2gpSettings,
    @Inject(GP2GP_LOGGER) private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.settings.pollMs);
    this.timer.unref();
    // Leases of the transfers in progress are renewed well before they lapse, however long a step takes (a
    // slow answer of the sending practice, a large read-back): only a worker that died loses its transfers.
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(Math.floor(this.settings.leaseMs / 3), 20));
    this.heartbeat.unref();
    this.kick();
  }

  /** Stops claiming work and waits for the steps in progress (their leases are released). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.active.values()].map((entry) => entry.done));
    clearInterval(this.heartbeat);
  }

  private async renewLeases(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      for (const { run } of [...this.active.values()]) {
        if (run.lost.signal.aborted) continue;
        const held = await this.transfers
          .renew(run.row.conversation_id, run.owner, this.settings.leaseMs)
          .catch((error: unknown) => {
            this.logger.warn({ conversationId: run.row.conversation_id, err: error }, 'gp2gp lease renewal failed');
            return true;
          });
        // Released at the end of the run, or taken over: a run still going stops at its next step.
        if (!held) run.lost.abort(new LeaseLost('the lease was taken over'));
      }
    } finally {
      this.renewing = false;
    }
  }

  /** Looks for work now (a new transfer was accepted). */
  kick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    this.tick()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'gp2gp worker pass failed'))
      .finally(() => {
        this.ticking = false;
      });
  }

  private async tick(): Promise<void> {
    if (Date.now() - this.lastSweep > Math.max(this.settings.pollMs * 4, 1000)) {
      this.lastSweep = Date.now();
      await this.timeOutOverdue();
      await this.purgeClosed();
    }
    while (!this.stopped && this.active.size < this.settings.workers) {
      // A token of this claim; the transfers this worker is moving are never claimed again by it.
      const owner = `${this.id}/${randomUUID().slice(0, 8)}`;
      const row = await this.transfers.claim(owner, this.settings.leaseMs, [...this.active.keys()]);
      if (!row) return;
      const run: Run = { row, owner, lost: new AbortController() };
      const done = this.process(run).finally(() => {
        if (this.active.get(row.conversation_id)?.run === run) this.active.delete(row.conversation_id);
        this.metrics.active.set(this.active.size);
        // A free slot: there may be more work waiting.
        setImmediate(() => this.kick());
      });
      this.active.set(row.conversation_id, { run, done });
      this.metrics.active.set(this.active.size);
    }
  }

  private async process(run: Run): Promise<void> {
    const { row } = run;
    try {
      let state: TransferState = row.state;
      if (state === 'EHR_EXTRACT_REQUEST_ACCEPTED' || state === 'REQUEST_RECEIVED') {
        await this.fetchExtract(run);
        state = 'EHR_EXTRACT_RECEIVED';
      }
      let attachments = await this.transfers.attachments(row.conversation_id);
      if (state === 'EHR_EXTRACT_RECEIVED' && attachments.length > 0) {
        await this.move(run, ['EHR_EXTRACT_RECEIVED'], 'CONTINUE_REQUEST_ACCEPTED', 'continue: attachments follow');
        state = 'CONTINUE_REQUEST_ACCEPTED';
      }
      for (const attachment of attachments) {
        if (!attachment.sha256) await this.fetchAttachment(run, attachment);
      }
      attachments = await this.transfers.attachments(row.conversation_id);
      for (const attachment of attachments) await this.verify(run, attachment);
      await this.move(run, WORKING_STATES, 'EHR_EXTRACT_TRANSLATED', null, this.settings.ackTimeoutHours);
      this.metrics.duration.observe((Date.now() - row.requested_at.getTime()) / 1000);
      await this.transfers.release(row.conversation_id, run.owner);
    } catch (error) {
      if (error instanceof LeaseLost || run.lost.signal.aborted) return;
      if (error instanceof TransferFailure) {
        await this.fail(run, error.reason, error.message);
        return;
      }
      const detail = error instanceof Error ? error.message : String(error);
      const attempts = await this.transfers.retryLater(
        row.conversation_id,
        run.owner,
        Math.min(60_000, 500 * 2 ** row.attempts),
        detail.slice(0, 500),
        this.settings.senderAttempts,
      );
      if (attempts === 0) return; // the claim was lost meanwhile: the run that holds it now carries on
      this.logger.warn(
        { conversationId: row.conversation_id, attempts, err: error },
        'gp2gp transfer step failed; will retry',
      );
      if (attempts >= this.settings.senderAttempts) {
        await this.fail(run, error instanceof SenderUnavailable ? '10' : '30', detail.slice(0, 500));
      }
    }
  }

  /** Moves the claimed transfer on; LeaseLost when another worker holds it now. */
  private async move(
    run: Run,
    from: readonly TransferState[],
    to: TransferState,
    detail: string | null,
    ackDueHours?: number,
  ): Promise<void> {
    const moved = await this.transfers.transition(this.transfers.pool, run.row.conversation_id, from, to, {
      detail,
      ackDueHours,
      owner: run.owner,
    });
    if (!moved) throw new LeaseLost();
    this.metrics.transitions.inc({ state: to });
  }

  /**
   * A request to the sending practice's system. The timeout is one of silence: it covers the answer's headers
   * and then restarts with every part of the body, so a large attachment may take as long as it needs while it
   * keeps coming (a timeout over the whole body would cut a 95 MiB document on a slow link or a busy machine).
   */
  private async senderFetch(run: Run, url: string, init: RequestInit = {}): Promise<Response> {
    const controller = new AbortController();
    const lost = (): void => controller.abort(run.lost.signal.reason);
    if (run.lost.signal.aborted) throw new LeaseLost();
    run.lost.signal.addEventListener('abort', lost, { once: true });
    const timer = setTimeout(
      () => controller.abort(new Error('the sending practice went silent')),
      this.settings.senderTimeoutMs,
    );
    timer.unref();
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: controller.signal });
    } catch (error) {
      clearTimeout(timer);
      run.lost.signal.removeEventListener('abort', lost);
      if (run.lost.signal.aborted) throw new LeaseLost();
      throw new SenderUnavailable(`The sending practice's system did not answer: ${(error as Error).message}`);
    }
    if (response.status >= 500 || !response.body) {
      clearTimeout(timer);
      await response.body?.cancel();
      if (response.status >= 500)
        throw new SenderUnavailable(`The sending practice's system answered ${response.status}`);
      return response;
    }
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, output) {
          timer.refresh();
          output.enqueue(chunk);
        },
        flush() {
          clearTimeout(timer);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  private async fetchExtract(run: Run): Promise<void> {
    const { row } = run;
    if (!row.sender_endpoint) throw new TransferFailure('24', 'No GP Connect endpoint for the sending practice');
    const response = await this.senderFetch(run, `${row.sender_endpoint}/Patient/$gpc.migratestructuredrecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'patientNHSNumber',
            valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: row.nhs_number },
          },
          { name: 'includeFullRecord', part: [{ name: 'includeSensitiveInformation', valueBoolean: true }] },
        ],
      }),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new TransferFailure('06', 'The sending practice does not hold the patient');
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new TransferFailure('10', `The sending practice's system answered ${response.status}`);
    }
    const text = await readCapped(response, this.settings.maxExtractBytes);
    let bundle: unknown;
    try {
      bundle = JSON.parse(text);
    } catch {
      throw new TransferFailure('21', 'The structured record is not JSON');
    }
    const attachments = attachmentsOf(bundle, row.sender_endpoint, row.nhs_number, this.settings.fragmentBytes);
    await withTransaction(this.transfers.pool, async (transaction) => {
      await this.transfers.insertAttachments(transaction, row.conversation_id, attachments);
      const moved = await this.transfers.transition(
        transaction,
        row.conversation_id,
        ['EHR_EXTRACT_REQUEST_ACCEPTED', 'REQUEST_RECEIVED'],
        'EHR_EXTRACT_RECEIVED',
        { extractJson: text, owner: run.owner, detail: `${attachments.length} attachments` },
      );
      if (!moved) throw new LeaseLost();
    });
    this.metrics.transitions.inc({ state: 'EHR_EXTRACT_RECEIVED' });
  }

  private objectName(row: TransferRow, position: number, index: number): string {
    return `${row.conversation_id}/${row.resends}/${position}/${index}`;
  }

  /**
   * Streams one attachment from the sending practice into fragments in the object store, starting after the
   * fragments already recorded (a Range request), and records each once it is stored. The whole attachment's
   * SHA-256 continues from the stored fragments, read back (and checked against their own SHA-256).
   */
  private async fetchAttachment(run: Run, attachment: AttachmentRow): Promise<void> {
    const { row } = run;
    const size = Number(attachment.size);
    const stored = await this.transfers.fragments(row.conversation_id, attachment.position);
    const whole = createHash('sha256');
    let offset = 0;
    for (const fragment of stored) {
      await this.hashStored(fragment.object_name, fragment.size, fragment.sha256, whole);
      offset += fragment.size;
    }
    if (stored.length < attachment.fragment_count && size > 0) {
      const response = await this.senderFetch(run, attachment.source_url, {
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      });
      if (response.status === 404) {
        await response.body?.cancel();
        throw new TransferFailure('31', `Attachment ${attachment.position} is not at the sending practice`);
      }
      if (response.status !== (offset > 0 ? 206 : 200) || !response.body) {
        await response.body?.cancel();
        throw new SenderUnavailable(
          `The sending practice answered ${response.status} for attachment ${attachment.position}`,
        );
      }
      const source = (response.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let leftover: Uint8Array | undefined;
      let ended = false;
      const take = async function* (count: number): AsyncGenerator<Uint8Array> {
        let remaining = count;
        while (remaining > 0) {
          let chunk = leftover;
          leftover = undefined;
          if (!chunk) {
            const next = await source.next();
            if (next.done) {
              ended = true;
              return;
            }
            chunk = next.value;
          }
          if (chunk.length > remaining) {
            leftover = chunk.subarray(remaining);
            chunk = chunk.subarray(0, remaining);
          }
          remaining -= chunk.length;
          whole.update(chunk);
          yield chunk;
        }
      };
      try {
        for (let index = stored.length; index < attachment.fragment_count; index += 1) {
          const expected = Math.min(this.settings.fragmentBytes, size - index * this.settings.fragmentBytes);
          const name = this.objectName(row, attachment.position, index);
          const put = await this.store.put(name, take(expected));
          if (put.size !== expected || ended) {
            throw new TransferFailure(
              '31',
              `Attachment ${attachment.position} ended after ${offset + put.size} of ${size} bytes`,
            );
          }
          const recorded = await this.transfers.recordFragment(row.conversation_id, run.owner, {
            position: attachment.position,
            index,
            offset,
            size: put.size,
            sha256: put.sha256,
            objectName: name,
          });
          if (!recorded) throw new LeaseLost();
          offset += put.size;
          this.metrics.fragments.inc();
          this.metrics.bytes.inc({ direction: 'in' }, put.size);
          if (index === 0 && attachment.position === 0) {
            await this.transfers.transition(
              this.transfers.pool,
              row.conversation_id,
              ['CONTINUE_REQUEST_ACCEPTED'],
              'COPC_MESSAGE_RECEIVED',
              {
                owner: run.owner,
                detail: 'fragments arriving',
              },
            );
          }
          if (!(await this.transfers.renew(row.conversation_id, run.owner, this.settings.leaseMs)))
            throw new LeaseLost();
        }
      } finally {
        await source.return?.();
      }
    }
    if (
      !(await this.transfers.completeAttachment(
        row.conversation_id,
        run.owner,
        attachment.position,
        whole.digest('hex'),
      ))
    )
      throw new LeaseLost();
  }

  /**
   * Reads a stored fragment into `whole`, checking it: missing 31, altered or cut short 29. The store not
   * answering (a NATS restart) is neither: the step is tried again, with the usual back-off.
   */
  private async hashStored(name: string, size: number, sha256: string, whole: Hash): Promise<void> {
    const data = await this.store.read(name);
    if (!data) throw new TransferFailure('31', `Fragment ${name} is missing from the object store`);
    const own = createHash('sha256');
    let length = 0;
    try {
      for await (const chunk of data) {
        own.update(chunk);
        whole.update(chunk);
        length += chunk.length;
      }
    } catch (error) {
      if (error instanceof StoreUnavailable) throw error;
      throw new TransferFailure('29', `Fragment ${name} could not be read back: ${(error as Error).message}`);
    }
    if (length !== size || own.digest('hex') !== sha256) {
      throw new TransferFailure('29', `Fragment ${name} does not match its index (size or SHA-256)`);
    }
  }

  /**
   * Checks an attachment's fragment index and its stored fragments before the record is delivered: every
   * fragment there (31 otherwise), in order, adding up to the attachment's size, and each still the object
   * stored (its size, and the store's digest equal to the SHA-256 computed as its bytes came in: 29 otherwise).
   * The bytes are not read back here: the attachment's SHA-256 was computed over them on their way in, and is
   * checked again over the bytes the requester receives (the gateway ends a download that does not match).
   */
  private async verify(run: Run, attachment: AttachmentRow): Promise<void> {
    const { row } = run;
    if (attachment.verified) return;
    const fragments = await this.transfers.fragments(row.conversation_id, attachment.position);
    const total = fragments.reduce((sum, fragment) => sum + fragment.size, 0);
    if (fragments.length !== attachment.fragment_count || total !== Number(attachment.size)) {
      throw new TransferFailure('31', `Attachment ${attachment.position}: the fragment index does not add up`);
    }
    for (const [index, fragment] of fragments.entries()) {
      if (fragment.index !== index)
        throw new TransferFailure('31', `Attachment ${attachment.position}: fragment ${index} is missing`);
      const stored = await this.store.check(fragment.object_name, fragment.size, fragment.sha256);
      if (stored === 'missing')
        throw new TransferFailure('31', `Fragment ${fragment.object_name} is missing from the object store`);
      if (stored === 'altered')
        throw new TransferFailure('29', `Fragment ${fragment.object_name} does not match its index (size or SHA-256)`);
    }
    if (!(await this.transfers.markVerified(row.conversation_id, run.owner, attachment.position)))
      throw new LeaseLost();
  }

  /** Ends the transfer with `reason`, if this run still holds it (a run that lost its lease writes nothing). */
  private async fail(run: Run, reason: ReasonCode, detail: string): Promise<void> {
    const { row } = run;
    const to = REASONS[reason].state;
    const moved = await withTransaction(this.transfers.pool, async (transaction) => {
      const done = await this.transfers.transition(transaction, row.conversation_id, WORKING_STATES, to, {
        reasonCode: reason,
        detail,
        owner: run.owner,
      });
      if (done) {
        await appendFailed(
          this.outbox,
          transaction,
          row,
          reason,
          ERROR_PRINTS.includes(reason),
          workerContext(row.conversation_id),
        );
      }
      return done;
    });
    await this.transfers.release(row.conversation_id, run.owner);
    if (moved) {
      this.metrics.transitions.inc({ state: to });
      this.outbox.kick();
      this.logger.info({ conversationId: row.conversation_id, reason }, 'gp2gp transfer failed');
    }
  }

  /** No final acknowledgement within the timeout: error 99, and the sending practice prints the record. */
  private async timeOutOverdue(): Promise<void> {
    const ended = await withTransaction(this.transfers.pool, async (transaction) => {
      const overdue = await transaction.query<TransferRow>(
        `SELECT * FROM ${this.transfersTable()} WHERE state = 'EHR_EXTRACT_TRANSLATED' AND ack_due_at < now()
         ORDER BY ack_due_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
      );
      for (const row of overdue.rows) {
        await this.transfers.transition(
          transaction,
          row.conversation_id,
          ['EHR_EXTRACT_TRANSLATED'],
          'ERROR_REQUEST_TIMEOUT',
          {
            reasonCode: '99',
            detail: 'No final acknowledgement within the timeout: the sending practice is told to print the record',
          },
        );
        await this.outbox.append(
          transaction,
          GP2GP_EVENTS.transferTimedOut,
          {
            conversationId: row.conversation_id,
            requestingOds: row.requesting_ods,
            sendingOds: row.sending_ods,
            reasonCode: '99',
            action: 'print-record',
            occurredAt: new Date().toISOString(),
          },
          workerContext(row.conversation_id),
        );
      }
      return overdue.rows.length;
    });
    if (ended > 0) {
      this.metrics.transitions.inc({ state: 'ERROR_REQUEST_TIMEOUT' }, ended);
      this.outbox.kick();
    }
  }

  /** Deletes the fragments of transfers that are over (nothing will read them again). */
  private async purgeClosed(): Promise<void> {
    for (const { conversation_id: conversationId } of await this.transfers.unpurged(20)) {
      for (const fragment of await this.transfers.fragments(conversationId))
        await this.store.delete(fragment.object_name);
      await this.transfers.markPurged(conversationId);
    }
    const usage = await this.store.usage().catch(() => undefined);
    if (usage) this.metrics.objectStoreBytes.set(usage.bytes);
  }

  private transfersTable(): string {
    return this.transfers.tableName('transfer');
  }
}
