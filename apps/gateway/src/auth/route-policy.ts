import { SetMetadata } from '@nestjs/common';

import type { PlatformRole } from '@platform/shared-auth';

export type Role = PlatformRole;

export interface RoutePolicy {
  /** FHIR routes: X-Request-ID is mandatory and errors are OperationOutcomes; open in sandbox mode. */
  fhir: boolean;
  /** Anonymous routes (health, docs). */
  public: boolean;
  roles: readonly Role[];
  /** Writes on non-FHIR routes: X-Request-ID (a UUID) is required too, because it is the idempotency key. */
  requestIdRequired?: boolean;
}

export const ROUTE_POLICY = 'platform:route-policy';

export const FhirRoute = (roles: readonly Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_POLICY, { fhir: true, public: false, roles } satisfies RoutePolicy);

export const PublicRoute = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_POLICY, { fhir: false, public: true, roles: [] } satisfies RoutePolicy);

/** A platform API route that is not FHIR (errors as RFC 9457 problem details); writes need an X-Request-ID. */
export const ApiRoute = (roles: readonly Role[], options: { write?: boolean } = {}): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_POLICY, {
    fhir: false,
    public: false,
    roles,
    requestIdRequired: options.write === true,
  } satisfies RoutePolicy);
