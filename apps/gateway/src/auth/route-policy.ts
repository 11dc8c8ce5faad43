import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

import type { PlatformRole } from '@platform/shared-auth';

export type Role = PlatformRole;

export interface RoutePolicy {
  /** FHIR routes: X-Request-ID is mandatory and errors are OperationOutcomes. */
  fhir: boolean;
  /** Anonymous routes (health, docs). */
  public: boolean;
  roles: readonly Role[];
  /** Writes on non-FHIR routes: X-Request-ID (a UUID) is required too, because it is the idempotency key. */
  requestIdRequired?: boolean;
  /** Open without a token in sandbox mode (the NHS sandbox's APIs: PDS). */
  sandbox?: boolean;
  /** The largest body this route takes, in bytes (under GATEWAY_BODY_LIMIT_BYTES for JSON). */
  maxBodyBytes?: number;
}

export const ROUTE_POLICY = 'platform:route-policy';

/**
 * Body limits per route. The NHS publishes no size limit for PDS; these leave room for the largest real
 * payloads (a PDS Patient with every field is about 10 KB, the EPS examples up to 55 KB pretty-printed).
 */
export const BODY_LIMITS = {
  pdsWrite: 64 * 1024,
  epsMessage: 512 * 1024,
  registryWrite: 16 * 1024,
  /** e-RS Parameters, Appointments and services (a 20-service shortlist is about 10 KB). */
  ersWrite: 128 * 1024,
  /** A bulk publish of up to 3,000 slots (about 200 bytes each) under NATS's 1 MB message. */
  ersSlotsPublish: 800 * 1024,
  /** GP2GP's requests: a Parameters with an NHS number, an acknowledgement (attachments never come this way). */
  gp2gpRequest: 16 * 1024,
} as const;

/**
 * The policy is Nest metadata and the Fastify route's `config.policy`: the gateway's onRequest hook reads it
 * there, so the caller is authenticated and authorised before Fastify reads the body.
 */
function policyDecorator(policy: RoutePolicy): MethodDecorator {
  return applyDecorators(SetMetadata(ROUTE_POLICY, policy), RouteConfig({ policy }));
}

export const FhirRoute = (
  roles: readonly Role[],
  options: { sandbox?: boolean; maxBodyBytes?: number } = {},
): MethodDecorator => policyDecorator({ fhir: true, public: false, roles, ...options });

export const PublicRoute = (): MethodDecorator => policyDecorator({ fhir: false, public: true, roles: [] });

/** A platform API route that is not FHIR (errors as RFC 9457 problem details); writes need an X-Request-ID. */
export const ApiRoute = (
  roles: readonly Role[],
  options: { write?: boolean; maxBodyBytes?: number } = {},
): MethodDecorator =>
  policyDecorator({
    fhir: false,
    public: false,
    roles,
    requestIdRequired: options.write === true,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });

/** The policy Nest registered with a Fastify route (its `config.policy`), if any. */
export function policyOf(config: unknown): RoutePolicy | undefined {
  return (config as { policy?: RoutePolicy } | undefined)?.policy;
}
