import { headers as natsHeaders, type MsgHdrs } from 'nats';

/**
 * How the person's access token was issued (the NHS access modes, ADR 0014 revision of issue 16):
 * `user-restricted`, a user present (a healthcare worker, or a patient with NHS login: the roles say which);
 * `application-restricted`, an application's own token with no user. A service that treats the modes
 * differently (pds) reads a caller without one (a statement from before the mode was signed) as
 * application-restricted, the mode that can do least.
 */
export type AccessMode = 'user-restricted' | 'application-restricted';

export const ACCESS_MODES: readonly AccessMode[] = ['user-restricted', 'application-restricted'];

export function isAccessMode(value: unknown): value is AccessMode {
  return (ACCESS_MODES as readonly unknown[]).includes(value);
}

/** Who is calling, as the gateway established it from a verified access token. */
export interface Caller {
  /** Token subject. */
  id: string;
  username?: string;
  clientId?: string;
  roles: string[];
  /** The ODS code the caller acts for on this request (NHSD-End-User-Organisation-ODS). */
  organisation?: string;
  /** A patient caller's own NHS number (from the token's `nhs_number`). */
  nhsNumber?: string;
  /** The access mode of the caller's token; absent in statements signed before it was carried. */
  accessMode?: AccessMode;
}

/** Travels with every message on the bus, in NATS headers. */
export interface CallContext {
  requestId: string;
  correlationId?: string;
  caller?: Caller;
  traceparent?: string;
  /**
   * The signed caller statement this context was verified from (X-Caller-Assertion), so that a service calling
   * another on the caller's behalf can nest it in its own statement. Never logged.
   */
  assertion?: string;
}

export const HEADER = {
  requestId: 'X-Request-ID',
  correlationId: 'X-Correlation-ID',
  traceparent: 'traceparent',
  callerId: 'X-Caller-ID',
  callerUsername: 'X-Caller-Username',
  callerClientId: 'X-Caller-Client-ID',
  callerRoles: 'X-Caller-Roles',
  callerOrganisation: 'NHSD-End-User-Organisation-ODS',
  callerNhsNumber: 'X-Caller-NHS-Number',
  callerAccessMode: 'X-Caller-Access-Mode',
  /** The signed caller statement (caller-assertion.ts): what services trust, rather than the headers above. */
  callerAssertion: 'X-Caller-Assertion',
} as const;

const CALLER_HEADERS = [
  HEADER.callerId,
  HEADER.callerUsername,
  HEADER.callerClientId,
  HEADER.callerRoles,
  HEADER.callerOrganisation,
  HEADER.callerNhsNumber,
  HEADER.callerAccessMode,
];

export function toNatsHeaders(context: CallContext): MsgHdrs {
  const h = natsHeaders();
  writeContext(h, context);
  return h;
}

/**
 * Puts `context` in the headers, replacing whatever caller the headers claimed: what a service's caller guard
 * does with the context it verified from the signed statement, before any handler reads the headers.
 */
export function writeContext(h: MsgHdrs, context: CallContext): void {
  for (const name of CALLER_HEADERS) h.delete(name);
  h.set(HEADER.requestId, context.requestId);
  if (context.correlationId) h.set(HEADER.correlationId, context.correlationId);
  if (context.traceparent) h.set(HEADER.traceparent, context.traceparent);
  const caller = context.caller;
  if (caller) {
    h.set(HEADER.callerId, caller.id);
    if (caller.username) h.set(HEADER.callerUsername, caller.username);
    if (caller.clientId) h.set(HEADER.callerClientId, caller.clientId);
    h.set(HEADER.callerRoles, caller.roles.join(','));
    if (caller.organisation) h.set(HEADER.callerOrganisation, caller.organisation);
    if (caller.nhsNumber) h.set(HEADER.callerNhsNumber, caller.nhsNumber);
    if (caller.accessMode) h.set(HEADER.callerAccessMode, caller.accessMode);
  }
}

export function fromNatsHeaders(h: MsgHdrs | undefined): CallContext {
  const get = (name: string): string | undefined => {
    const value = h?.get(name);
    return value ? value : undefined;
  };
  const callerId = get(HEADER.callerId);
  const context: CallContext = { requestId: get(HEADER.requestId) ?? 'unknown' };
  const correlationId = get(HEADER.correlationId);
  if (correlationId) context.correlationId = correlationId;
  const traceparent = get(HEADER.traceparent);
  if (traceparent) context.traceparent = traceparent;
  if (callerId) {
    context.caller = {
      id: callerId,
      username: get(HEADER.callerUsername),
      clientId: get(HEADER.callerClientId),
      roles: (get(HEADER.callerRoles) ?? '').split(',').filter(Boolean),
      organisation: get(HEADER.callerOrganisation),
    };
    const nhsNumber = get(HEADER.callerNhsNumber);
    if (nhsNumber) context.caller.nhsNumber = nhsNumber;
    const accessMode = get(HEADER.callerAccessMode);
    if (isAccessMode(accessMode)) context.caller.accessMode = accessMode;
  }
  const assertion = get(HEADER.callerAssertion);
  if (assertion) context.assertion = assertion;
  return context;
}

/** Who made a change, for a service's history records: the caller's username (or subject), organisation, request. */
export function actorOf(context: CallContext): { actor: string; actorOrganisation: string | null; requestId: string } {
  return {
    actor: context.caller?.username ?? context.caller?.id ?? 'anonymous',
    actorOrganisation: context.caller?.organisation ?? null,
    requestId: context.requestId,
  };
}
