import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import {
  importBucket,
  type ImportOrganisationsRequest,
  type ImportReport,
  type Organisation,
  type Page,
  type SearchOrganisationsRequest,
  type UpsertOrganisationRequest,
} from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { importExtract } from '../imports/import-extract';
import { checkDate, fieldError, odsCodeOf } from '../rules';
import { OwnerIndex } from '../connections/owner-index';
import { OrganisationRepository } from './organisation.repository';

export const N3_NATS = Symbol('N3_NATS');

@Injectable()
export class OrganisationsUseCase {
  constructor(
    private readonly organisations: OrganisationRepository,
    private readonly writes: IdempotentWrites,
    @Inject(N3_NATS) private readonly nats: NatsConnection,
    private readonly owners: OwnerIndex,
  ) {}

  async get(odsCodeText: string): Promise<Organisation> {
    const odsCode = odsCodeOf(odsCodeText);
    const organisation = await this.organisations.get(odsCode);
    if (!organisation) {
      throw new PlatformError('ORGANISATION_NOT_FOUND', undefined, {
        diagnostics: `No organisation has ODS code ${odsCode}`,
      });
    }
    return organisation;
  }

  search(request: SearchOrganisationsRequest): Promise<Page<Organisation>> {
    if (!request.name && !request.postcode && !request.role) {
      throw fieldError('name', 'search by at least one of name, postcode or role');
    }
    return this.organisations.search(request);
  }

  async upsert(request: UpsertOrganisationRequest, context: CallContext): Promise<Organisation> {
    const organisation = {
      ...request,
      openDate: request.openDate ?? null,
      closeDate: request.closeDate ?? null,
      postcode: request.postcode ?? null,
      parentOdsCode: request.parentOdsCode ?? null,
      telephone: request.telephone ?? null,
    };
    checkDate(organisation.openDate, 'openDate');
    checkDate(organisation.closeDate, 'closeDate');
    if (organisation.openDate && organisation.closeDate && organisation.closeDate < organisation.openDate) {
      throw fieldError('closeDate', `${organisation.closeDate} is before openDate ${organisation.openDate}`);
    }
    const key = writeKey(context, 'organisation.upsert', request);
    const saved = await this.writes.run(key, (transaction) => this.organisations.upsert(transaction, organisation));
    // The owner table carries organisation names and statuses.
    this.owners.reloadSoon();
    return saved;
  }

  /** Imports an extract waiting in the import bucket, exactly once per X-Request-ID like every write. */
  async import(request: ImportOrganisationsRequest, context: CallContext): Promise<ImportReport> {
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
