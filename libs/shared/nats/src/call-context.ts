import { headers as natsHeaders, type MsgHdrs } from 'nats';

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
}

/** Travels with every message on the bus, in NATS headers. */
export interface CallContext {
  requestId: string;
  correlationId?: string;
  caller?: Caller;
  traceparent?: string;
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
} as const;

export function toNatsHeaders(context: CallContext): MsgHdrs {
  const h = natsHeaders();
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
  }
  return h;
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
  }
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
