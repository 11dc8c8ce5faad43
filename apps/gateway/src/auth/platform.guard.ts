import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PlatformError } from '@platform/shared-errors';
import { isWellFormedOdsCode } from '@platform/shared-identifiers';
import type { CallContext, Caller } from '@platform/shared-nats';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { RateLimiter } from './rate-limiter';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy';
import { invalidToken, TokenVerifier, type VerifiedToken } from './token-verifier';

declare module 'fastify' {
  interface FastifyRequest {
    callContext?: CallContext;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ORGANISATION_HEADER = 'nhsd-end-user-organisation-ods';
const SANDBOX_CALLER: Caller = { id: 'sandbox', username: 'sandbox', roles: [] };

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Every route passes here, in this order: authentication (verified RS256 token), the client's rate limit,
 * X-Request-ID on FHIR routes, the route's roles, and the organisation the caller acts for. The outcome is
 * the call context that travels to the services in NATS headers.
 */
@Injectable()
export class PlatformGuard implements CanActivate {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {
    this.limiter = new RateLimiter(settings.rateLimit, settings.rateLimitOverrides);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<RoutePolicy | undefined>(ROUTE_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!policy) throw new PlatformError('REC_SERVER_ERROR', 'Route has no access policy');
    if (policy.public) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();

    if (this.settings.sandbox && policy.fhir) {
      request.callContext = { ...this.requestIds(request), caller: SANDBOX_CALLER };
      return true;
    }

    const token = await this.authenticate(request);
    const client = token.clientId ?? token.subject;
    const allowance = this.limiter.take(client);
    if (!allowance.allowed) {
      throw new PlatformError('TOO_MANY_REQUESTS', 'Too many requests', {
        diagnostics: `Rate limit exceeded for client ${client}; retry after ${allowance.retryAfterSeconds} s`,
        headers: { 'Retry-After': String(allowance.retryAfterSeconds) },
      });
    }
    const ids =
      policy.fhir || policy.requestIdRequired
        ? this.requestIds(request)
        : { requestId: header(request, 'x-request-id') ?? crypto.randomUUID() };
    if (!policy.roles.some((role) => token.roles.includes(role))) {
      throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
        diagnostics: `This operation needs one of the roles: ${policy.roles.join(', ')}`,
      });
    }
    request.callContext = {
      ...ids,
      caller: {
        id: token.subject,
        username: token.username,
        clientId: token.clientId,
        roles: token.roles,
        organisation: this.organisation(request, token),
        ...(token.nhsNumber ? { nhsNumber: token.nhsNumber } : {}),
      },
    };
    return true;
  }

  private async authenticate(request: FastifyRequest): Promise<VerifiedToken> {
    const authorization = header(request, 'authorization');
    if (!authorization) {
      throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
        status: 401,
        diagnostics: 'Missing Authorization header',
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    // RFC 9110 section 11.1: the scheme is case-insensitive and one or more spaces separate it from the token.
    const match = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(authorization);
    if (!match?.[1]) throw invalidToken('Invalid Access Token');
    return this.verifier.verify(match[1]);
  }

  private requestIds(request: FastifyRequest): Pick<CallContext, 'requestId' | 'correlationId'> {
    const requestId = header(request, 'x-request-id');
    if (requestId === undefined || requestId === '') {
      throw new PlatformError('MISSING_VALUE', 'Required value is missing', {
        diagnostics: 'Invalid request with error - X-Request-ID header must be supplied to access this resource',
      });
    }
    if (!UUID.test(requestId)) {
      throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
        diagnostics: `Invalid value - '${requestId.slice(0, 64)}' in header 'X-Request-ID'`,
      });
    }
    const correlationId = header(request, 'x-correlation-id');
    return correlationId ? { requestId, correlationId: correlationId.slice(0, 200) } : { requestId };
  }

  /** The organisation on the request must be one the token allows; a single-organisation token implies it. */
  private organisation(request: FastifyRequest, token: VerifiedToken): string | undefined {
    const claimed = header(request, ORGANISATION_HEADER);
    if (claimed === undefined || claimed === '') {
      if (token.organisations.length > 1) {
        throw new PlatformError('MISSING_VALUE', 'Required value is missing', {
          diagnostics:
            "Header 'NHSD-End-User-Organisation-ODS' is required: the token allows more than one organisation",
        });
      }
      return token.organisations[0];
    }
    const code = claimed.toUpperCase();
    if (!isWellFormedOdsCode(code)) {
      throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
        diagnostics: `Invalid value - '${claimed.slice(0, 16)}' in header 'NHSD-End-User-Organisation-ODS'`,
      });
    }
    if (!token.organisations.includes(code)) {
      throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
        diagnostics: `The access token does not allow acting for organisation ${code}`,
      });
    }
    return code;
  }
}
