import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FhirReply, QueryRequest } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { actorFor } from '../shared/caller';
import { PractitionersRepository } from './practitioners.repository';

/** The SDS user id system of the R4 API (A030, A040). */
const SDS_USER_R4 = 'https://fhir.nhs.uk/Id/sds-user-id';
/** The most practitioners one answer lists. */
export const ON_BEHALF_OF_LIMIT = 500;

function badQuery(diagnostics: string): PlatformError {
  return new PlatformError('REC_BAD_REQUEST', undefined, { diagnostics });
}

/**
 * A040 (GET /R4/Practitioner?_query=onBehalfOf): the provider clinicians a SERVICE_PROVIDER_CLINICIAN_ADMIN may
 * work on behalf of at the organisation they act for, as an R4 Bundle of Practitioner. They are the clinicians
 * the organisation names on its active services. Another business function is refused (403); a missing or
 * other `_query` is 400 REC_BAD_REQUEST, as the NHS answers.
 */
@Injectable()
export class PractitionersUseCase {
  constructor(private readonly practitioners: PractitionersRepository) {}

  async onBehalfOf(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    const query = request.query['_query'];
    if (query !== 'onBehalfOf') {
      throw badQuery("The query parameter _query is missing or has an invalid value (expected 'onBehalfOf')");
    }
    const unknown = Object.keys(request.query).filter((name) => name !== '_query');
    if (unknown.length > 0) throw badQuery(`Unknown query parameter '${unknown[0]?.slice(0, 40) ?? ''}'`);
    const actor = actorFor(context, request, ['SERVICE_PROVIDER_CLINICIAN_ADMIN'], { onBehalfOf: 'not-taken' });
    const clinicians = await this.practitioners.namedClinicians(actor.organisation, ON_BEHALF_OF_LIMIT);
    const now = new Date().toISOString();
    return {
      resource: {
        id: randomUUID(),
        resourceType: 'Bundle',
        meta: { lastUpdated: now },
        type: 'searchset',
        total: clinicians.length,
        timestamp: now,
        link: [{ relation: 'self', url: '_baseUrl_/R4/Practitioner?_query=onBehalfOf' }],
        entry: clinicians.map((clinician) => ({
          fullUrl: `Practitioner/${clinician.sdsUserId}`,
          resource: {
            id: clinician.sdsUserId,
            resourceType: 'Practitioner',
            // One identifier, not a list: as the NHS example and sandbox answer it.
            identifier: { system: SDS_USER_R4, value: clinician.sdsUserId },
            ...(clinician.name ? { name: [{ text: clinician.name }] } : {}),
          },
          search: { mode: 'match' },
        })),
      },
    };
  }
}
