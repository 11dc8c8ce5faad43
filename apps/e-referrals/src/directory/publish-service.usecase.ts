import { Injectable } from '@nestjs/common';
import type { FhirReply, ResourceRequest } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { invalid } from '../shared/fhir';
import { Organisations } from '../shared/organisations';
import { DirectoryRepository } from './directory.repository';
import { serviceFromResource, serviceResource, type ServiceRecord } from './service-resource';

/** Who may publish for an organisation: operations for any, a provider's own staff for their organisation only. */
export function requirePublisher(context: CallContext, odsCode: string): void {
  const caller = context.caller;
  if (caller?.roles.includes('ops')) return;
  if (caller?.organisation !== odsCode) {
    throw new PlatformError('FORBIDDEN', undefined, {
      diagnostics: `Only ${odsCode}'s own staff may publish its services (the caller acts for ${caller?.organisation ?? 'no organisation'})`,
    });
  }
}

/**
 * Publishes (creates or replaces) a healthcare service: the provider must be an active provider organisation
 * in the N3 registry; each publish is a new version (A037's versionId). Once per X-Request-ID.
 */
@Injectable()
export class PublishServiceUseCase {
  constructor(
    private readonly directory: DirectoryRepository,
    private readonly organisations: Organisations,
    private readonly writes: IdempotentWrites,
  ) {}

  async execute(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const published = serviceFromResource(request.resource);
    requirePublisher(context, published.odsCode);
    await this.organisations.requireProvider(published.odsCode, context);
    if (!(await this.directory.postcode(published.postcode))) {
      throw invalid(`Postcode ${published.postcode} is not in the postcode table`, 'REFERENCE_NOT_FOUND');
    }
    const key = writeKey(context, 'service.publish', request.resource);
    return this.writes.run(key, async (transaction) => {
      const existing = await this.directory.lockService(transaction, published.id);
      if (existing && existing.odsCode !== published.odsCode) {
        throw new PlatformError('FORBIDDEN', undefined, {
          diagnostics: `Service ${published.id} belongs to ${existing.odsCode}`,
        });
      }
      const service: ServiceRecord = { ...published, version: (existing?.version ?? 0) + 1 };
      const resource = serviceResource(service);
      await this.directory.saveService(transaction, service, resource, context.caller?.id ?? 'unknown');
      return { resource, versionId: String(service.version), location: `R4/HealthcareService/${service.id}` };
    });
  }
}
