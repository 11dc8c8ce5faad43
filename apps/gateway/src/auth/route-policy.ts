import { SetMetadata } from '@nestjs/common';

import type { PlatformRole } from '@platform/shared-auth';

export type Role = PlatformRole;

export interface RoutePolicy {
  /** FHIR routes: X-Request-ID is mandatory and errors are OperationOutcomes; open in sandbox mode. */
  fhir: boolean;
  /** Anonymous routes (health, docs). */
  public: boolean;
  roles: readonly Role[];
}

export const ROUTE_POLICY = 'platform:route-policy';

export const FhirRoute = (roles: readonly Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_POLICY, { fhir: true, public: false, roles } satisfies RoutePolicy);

export const PublicRoute = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_POLICY, { fhir: false, public: true, roles: [] } satisfies RoutePolicy);
