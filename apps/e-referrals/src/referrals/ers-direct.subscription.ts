import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import {
  ERS_ENCODING_HEADER,
  ERS_LOCATION_HEADER,
  ERS_QUEUE,
  ERS_SUBJECTS,
  ERS_VERSION_HEADER,
  plainQueryRequest,
  plainResourceRequest,
  QueryRequest,
  ResourceRequest,
  worklistBody,
  type FhirReply,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { Logger } from '@platform/shared-logging';
import {
  serveDirect,
  validatePayload,
  type CallContext,
  type CallerAdmission,
  type RawReply,
} from '@platform/shared-nats';
import type { NatsConnection, Subscription } from 'nats';
import type { DirectoryReadsUseCase } from '../directory/directory-reads.usecase';
import type { WorklistUseCase } from '../provider/worklist.usecase';
import type { BookAppointmentUseCase } from './book-appointment.usecase';

const gzipped = promisify(gzip);

/** The request as the validation pipe would pass it: checked by hand in the common case, else by its class. */
async function checked<T extends object>(
  data: unknown,
  plain: (value: unknown) => T | undefined,
  type: new () => T,
): Promise<T> {
  const request = plain(data);
  if (request) return request;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'the request must be an object' });
  }
  return validatePayload(type, data as T);
}

/** A FhirReply as a raw reply: the resource's JSON, its version and location in headers. */
function raw(reply: FhirReply): RawReply {
  const headers: Record<string, string> = {};
  if (reply.versionId !== undefined) headers[ERS_VERSION_HEADER] = reply.versionId;
  if (reply.location !== undefined) headers[ERS_LOCATION_HEADER] = reply.location;
  return { body: JSON.stringify(reply.resource), headers };
}

/**
 * The e-RS subjects callers make most, served by plain NATS subscriptions rather than Nest's microservice
 * transport (`serveDirect`), as pds serves its read: A016 booking (`ers.appointment.create.v1`), A010 search,
 * A015 slots and the A008 worklist. The same caller checks as the global guard (`CallerAdmission`: the signed
 * caller statement, the subject's roles; the business function is the use cases' own check, 403 as before), the
 * same payload rules as the validation pipe (by hand in the common case), the same use cases and errors; the
 * answer's JSON sent raw, its version and location in headers, so that the gateway passes it on unparsed. The
 * worklist is the FHIR List itself (`worklistBody`, some 6 MB of JSON for 5,000 referrals), gzipped, which the
 * gateway used to write from a compact answer: it now sends it as it is to a client that accepts gzip.
 *
 * Subscribed in the service's queue group once the app has started; drained before the app's shutdown hooks run,
 * so that requests in flight are answered before the database closes.
 */
export class ErsDirectSubscriptions implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnection,
    private readonly admission: CallerAdmission,
    private readonly uses: {
      book: BookAppointmentUseCase;
      directoryReads: DirectoryReadsUseCase;
      worklist: WorklistUseCase;
    },
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const serve = <T>(
      subject: string,
      parse: (data: unknown) => Promise<T>,
      handle: (request: T, context: CallContext) => Promise<RawReply>,
    ): Subscription =>
      serveDirect(this.nats, {
        subject,
        queue: ERS_QUEUE,
        admission: this.admission,
        logger: this.logger,
        parse,
        handle,
      });
    const resource = (data: unknown): Promise<ResourceRequest> => checked(data, plainResourceRequest, ResourceRequest);
    const query = (data: unknown): Promise<QueryRequest> => checked(data, plainQueryRequest, QueryRequest);
    const { book, directoryReads, worklist } = this.uses;
    this.subscriptions = [
      serve(ERS_SUBJECTS.appointmentCreate, resource, async (request, context) =>
        raw(await book.execute(request, context)),
      ),
      serve(ERS_SUBJECTS.serviceSearch, resource, async (request, context) =>
        raw(await directoryReads.search(request, context)),
      ),
      serve(ERS_SUBJECTS.slotSearch, query, async (request, context) =>
        raw(await directoryReads.slots(request, context)),
      ),
      serve(ERS_SUBJECTS.worklistGet, resource, async (request, context) => ({
        // Gzipped off the event loop (zlib's thread pool) at its fastest level: the List's text repeats itself
        // (6.5 MB for 5,000 referrals gzip to some 150-400 KB), so one NATS message carries it.
        body: await gzipped(worklistBody(await worklist.execute(request, context)), { level: 1 }),
        headers: { [ERS_ENCODING_HEADER]: 'gzip' },
      })),
    ];
  }

  async beforeApplicationShutdown(): Promise<void> {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(
      subscriptions.filter((subscription) => !subscription.isClosed()).map((subscription) => subscription.drain()),
    );
  }
}
