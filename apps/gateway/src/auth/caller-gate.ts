import type { FastifyRequest } from 'fastify';
import { PlatformError } from '@platform/shared-errors';
import { isWellFormedOdsCode } from '@platform/shared-identifiers';
import type { CallContext, Caller } from '@platform/shared-nats';
import type { GatewaySettings } from '../gateway.settings';
import { RateLimiter } from './rate-limiter';
import type { RoutePolicy } from './route-policy';
import { invalidToken, type TokenVerifier, type VerifiedToken } from './token-verifier';

declare module 'fastify' {
  interface FastifyRequest {
    callContext?: CallContext;
    /** The caller is an application without a user (client credentials): application-restricted access. */
    applicationRestricted?: boolean;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ORGANISATION_HEADER = 'nhsd-end-user-organisation-ods';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function tooManyRequests(diagnostics: string, retryAfterSeconds: number): PlatformError {
  return new PlatformError('TOO_MANY_REQUESTS', 'Too many requests', {
    diagnostics: `${diagnostics}; retry after ${retryAfterSeconds} s`,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/**
 * Who is calling and whether they may, decided in Fastify's onRequest hook from the headers alone, before
 * a byte of the body is read. In this order: the address's rate limit (before the token is looked at, so
 * invalid tokens count), sandbox mode for the routes the NHS sandbox opens, authentication (a verified RS256
 * token), the client's (or, for a shared public client, the user's) rate limit, X-Request-ID on FHIR routes
 * and writes, the route's roles, and the organisation the caller acts for. The outcome is the call context
 * that travels to the services in NATS headers.
 */
export class CallerGate {
  private readonly perAddress: RateLimiter;
  private readonly perClient: RateLimiter;
  private readonly publicClients: ReadonlySet<string>;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly settings: GatewaySettings,
  ) {
    this.perAddress = new RateLimiter(settings.addressRateLimit);
    this.perClient = new RateLimiter(settings.rateLimit, settings.rateLimitOverrides);
    this.publicClients = new Set(settings.publicClients);
  }

  /** Throws the refusal (401, 403, 400, 429) or sets `request.callContext`. */
  async admit(request: FastifyRequest, policy: RoutePolicy): Promise<void> {
    if (policy.public) return;

    const address = this.perAddress.take(request.ip);
    if (!address.allowed) {
      throw tooManyRequests(`Rate limit exceeded for address ${request.ip}`, address.retryAfterSeconds);
    }

    if (this.settings.sandbox && policy.sandbox === true) {
      // Local only (the configuration refuses sandbox mode with a non-loopback issuer or address). The
      // caller holds exactly the roles the route asks for and no organisation, so organisation checks refuse.
      // The NHS sandbox is open access ("does not allow you to test authorisation"): a user is present.
      const caller: Caller = {
        id: 'sandbox',
        username: 'sandbox',
        roles: [...policy.roles],
        accessMode: 'user-restricted',
      };
      request.callContext = { ...this.requestIds(request), caller };
      return;
    }

    const token = await this.authenticate(request);
    const bucket = this.bucketOf(token);
    const allowance = this.perClient.take(bucket, token.clientId ?? token.subject);
    if (!allowance.allowed) {
      throw tooManyRequests(`Rate limit exceeded for ${bucket}`, allowance.retryAfterSeconds);
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
    if (token.application) request.applicationRestricted = true;
    request.callContext = {
      ...ids,
      caller: {
        id: token.subject,
        username: token.username,
        clientId: token.clientId,
        roles: token.roles,
        organisation: this.organisation(request, token),
        ...(token.nhsNumber ? { nhsNumber: token.nhsNumber } : {}),
        // Signed into the caller statement, so services enforce the mode too (not only the routes here).
        accessMode: token.application ? 'application-restricted' : 'user-restricted',
      },
    };
  }

  /**
   * The rate-limit bucket: the client application, except for public clients (no secret, one client ID
   * shared by everyone who uses that app), where each user has their own so one user cannot starve the rest.
   */
  private bucketOf(token: VerifiedToken): string {
    const client = token.clientId ?? token.subject;
    return this.publicClients.has(client) ? `client ${client} user ${token.subject}` : `client ${client}`;
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
    const match = /^bearer +([\w-]+\.[\w-]*\.[\w-]*)$/i.exec(authorization);
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
