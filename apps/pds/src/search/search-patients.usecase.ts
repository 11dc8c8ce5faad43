import { Inject, Injectable } from '@nestjs/common';
import { singleMatchQuery, type SearchPatientsReply } from '@platform/contracts-pds';
import type { CallContext } from '@platform/shared-nats';
import { readAuditEntry, ReadAuditRepository } from '../audit/read-audit.repository';
import { isSandboxRequest, SANDBOX_MODE } from '../sandbox/sandbox-mode';
import { sandboxSearch } from '../sandbox/search-examples';
import { parseSearchQuery } from './search-query';
import { searchView } from './search-view';
import { isApplicationRestricted } from '../read/patient-caller';
import { PatientSearchRepository } from './search.repository';

/**
 * Patient search: the query is validated with the NHS's error precedence, matched in PostgreSQL, and every
 * patient returned is audited as a read of that record (the reply waits until the entries are committed).
 * More matches than `_max-results` return nobody (TOO_MANY_MATCHES), so nobody is audited. An application-
 * restricted caller (or a statement without an access mode) is held to `_max-results=1`.
 *
 * A sandbox request (NHS sandbox mode) is validated the same way; then a documented example search gets its
 * example's answer (src/sandbox/search-examples.ts) and any other valid search `noExample`, as the NHS sandbox.
 */
@Injectable()
export class SearchPatientsUseCase {
  constructor(
    private readonly patients: PatientSearchRepository,
    private readonly audit: ReadAuditRepository,
    @Inject(SANDBOX_MODE) private readonly sandboxMode: boolean,
  ) {}

  async execute(
    queryString: string,
    context: CallContext,
    options: { sandbox?: boolean | undefined } = {},
  ): Promise<SearchPatientsReply> {
    // Application-restricted access gets a single unique match, never a list: enforced here from the signed
    // access mode as well as at the gateway.
    let query = parseSearchQuery(isApplicationRestricted(context) ? singleMatchQuery(queryString) : queryString);
    if (isSandboxRequest(options, this.sandboxMode)) {
      const example = sandboxSearch(queryString);
      if (example === undefined) return { matches: [], tooManyMatches: false, noExample: true };
      query = parseSearchQuery(example);
    }
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
