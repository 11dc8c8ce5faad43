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
import { IdempotentWrites } from '@platform/shared-persistence';
import { readExtract } from '../imports/ods-csv';
import { checkDate, fieldError, odsCodeOf } from '../rules';
import { OrganisationRepository } from './organisation.repository';

export const N3_NATS = Symbol('N3_NATS');

/** At most this many rejected rows travel back in an answer (the count says how many there were). */
const REJECTED_SHOWN = 1000;

@Injectable()
export class OrganisationsUseCase {
  constructor(
    private readonly organisations: OrganisationRepository,
    private readonly writes: IdempotentWrites,
    @Inject(N3_NATS) private readonly nats: NatsConnection,
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
    const key = {
      callerId: context.caller?.id ?? 'anonymous',
      requestId: context.requestId,
      operation: 'organisation.upsert',
      request,
    };
    return this.writes.run(key, (transaction) => this.organisations.upsert(transaction, organisation));
  }

  /**
   * Imports an extract from the import bucket: every row checked first; any bad row rejects the whole file
   * (INVALID_IMPORT, each line and reason listed) unless `skipInvalid`; the good rows then load in one
   * transaction. Exactly once per X-Request-ID, like every write.
   */
  async import(
    request: ImportOrganisationsRequest,
    context: CallContext,
    progress?: (records: number) => void,
  ): Promise<ImportReport> {
    const started = performance.now();
    const bucket = await importBucket(this.nats);
    const key = {
      callerId: context.caller?.id ?? 'anonymous',
      requestId: context.requestId,
      operation: 'organisation.import',
      request,
    };
    const report = await this.writes.run(key, async (transaction) => {
      const object = await bucket.get(request.objectName);
      if (!object) {
        throw fieldError('objectName', `no extract named ${request.objectName} is waiting in the import bucket`);
      }
      const extract = await readExtract(
        Readable.fromWeb(object.data as WebReadableStream),
        request.role,
        { progress },
      );
      if (await object.error)
        throw new PlatformError('REC_SERVER_ERROR', 'The extract could not be read from the import bucket');
      if (extract.rejected.length > 0 && !request.skipInvalid) {
        throw new PlatformError('INVALID_IMPORT', undefined, {
          diagnostics: `${extract.rejected.length} of the extract's rows cannot be imported (the first on line ${extract.rejected[0]?.line}: ${extract.rejected[0]?.reason}); nothing was imported`,
          details: { rejected: extract.rejected.slice(0, REJECTED_SHOWN), rejectedCount: extract.rejected.length },
        });
      }
      if (extract.rows.length === 0) throw fieldError('file', 'the extract holds no organisations');
      const { inserted, updated } = await this.organisations.importRows(transaction, extract.rows);
      return {
        rows: extract.rows.length + extract.rejected.length,
        inserted,
        updated,
        rejected: extract.rejected.slice(0, REJECTED_SHOWN),
        partial: extract.rejected.length > 0,
        ms: 0,
      };
    });
    await bucket.delete(request.objectName).catch(() => undefined);
    return { ...report, ms: Math.round(performance.now() - started) };
  }
}
