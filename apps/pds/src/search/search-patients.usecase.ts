import { Injectable } from '@nestjs/common';
import type { SearchPatientsReply } from '@platform/contracts-pds';
import type { CallContext } from '@platform/shared-nats';
import { readAuditEntry, ReadAuditRepository } from '../audit/read-audit.repository';
import { parseSearchQuery } from './search-query';
import { searchView } from './search-view';
import { PatientSearchRepository } from './search.repository';

/**
 * Patient search: the query is validated with the NHS's error precedence, matched in PostgreSQL, and every
 * patient returned is audited as a read of that record (the reply waits until the entries are committed).
 * More matches than `_max-results` return nobody (TOO_MANY_MATCHES), so nobody is audited.
 */
@Injectable()
export class SearchPatientsUseCase {
  constructor(
    private readonly patients: PatientSearchRepository,
    private readonly audit: ReadAuditRepository,
  ) {}

  async execute(queryString: string, context: CallContext): Promise<SearchPatientsReply> {
    const query = parseSearchQuery(queryString);
    const hits = await this.patients.search(query);
    if (hits.length > query.maxResults) return { matches: [], tooManyMatches: true };
    const at = new Date();
    await Promise.all(
      hits.map((hit) => this.audit.record(readAuditEntry(hit.patient.nhsNumber, 'patient.search', context, at))),
    );
    return {
      matches: hits.map((hit) => ({ patient: searchView(hit.patient), score: hit.score })),
      tooManyMatches: false,
    };
  }
}
