import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { importBucket, type ImportOrganisationsRequest, type ImportReport } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { importExtract } from '../imports/import-extract';
import { fieldError } from '../rules';
import { OrganisationRepository } from '../shared/organisation.repository';
import { OwnerIndex } from '../shared/owner-index';

export const N3_NATS = Symbol('N3_NATS');

/** Imports an extract waiting in the import bucket, exactly once per X-Request-ID like every write. */
@Injectable()
export class ImportOrganisationsUseCase {
  constructor(
    private readonly organisations: OrganisationRepository,
    private readonly writes: IdempotentWrites,
    @Inject(N3_NATS) private readonly nats: NatsConnection,
    private readonly owners: OwnerIndex,
  ) {}

  async execute(request: ImportOrganisationsRequest, context: CallContext): Promise<ImportReport> {
    const bucket = await importBucket(this.nats);
    const key = writeKey(context, 'organisation.import', request);
    const report = await this.writes.run(key, async (transaction) => {
      const object = await bucket.get(request.objectName);
      if (!object) {
        throw fieldError('objectName', `no extract named ${request.objectName} is waiting in the import bucket`);
      }
      const input = Readable.fromWeb(object.data as WebReadableStream);
      const imported = await importExtract(transaction, this.organisations, input, request);
      if (await object.error)
        throw new PlatformError('REC_SERVER_ERROR', 'The extract could not be read from the import bucket');
      return imported;
    });
    await bucket.delete(request.objectName).catch(() => undefined);
    this.owners.reloadSoon();
    return report;
  }
}
