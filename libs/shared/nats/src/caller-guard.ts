import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { MsgHdrs } from 'nats';
import { PlatformError } from '@platform/shared-errors';
import type { Logger } from '@platform/shared-logging';
import { HEADER, writeContext, type CallContext } from './call-context';
import type { CallerAssertionVerifier } from './caller-assertion';

/** Who may call one subject: callers holding one of these roles, or anyone (health checks). */
export type SubjectPolicy = { roles: readonly string[] } | { public: true };

/** Every subject a service serves, with who may call it. A subject missing here is refused (fail closed). */
export type SubjectPolicies = Readonly<Record<string, SubjectPolicy>>;

/**
 * Runs before every NATS handler of a service (a global guard): verifies the signed caller statement for the
 * message's subject and data, checks the subject's roles against it, and replaces whatever caller the
 * headers claimed with the verified one, so that handlers, audit and history only ever see a verified
 * caller. A refusal is an ACCESS_DENIED answer and a warning in the log (subject, request, reason; never
 * the statement itself).
 */
export class CallerGuard implements CanActivate {
  private readonly admission: CallerAdmission;

  constructor(verifier: CallerAssertionVerifier, policies: SubjectPolicies, logger: Logger) {
    this.admission = new CallerAdmission(verifier, policies, logger);
  }

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const rpc = execution.switchToRpc();
    const nats = rpc.getContext<NatsContext>();
    const headers = nats.getHeaders() as MsgHdrs | undefined;
    const verified = await this.admission.admit(nats.getSubject(), rpc.getData(), headers);
    // Headers exist: admit refuses a message without a statement unless its subject is public.
    if (verified) writeContext(headers as MsgHdrs, verified);
    return true;
  }
}

/**
 * The caller guard's checks without Nest, for a handler subscribed to NATS directly (`serveDirect`): the
 * subject's policy, the signed statement for this subject and data, the subject's roles. Answers the verified
 * call context (undefined for a public subject) or throws ACCESS_DENIED, logging the refusal as the guard does.
 */
export class CallerAdmission {
  constructor(
    private readonly verifier: CallerAssertionVerifier,
    private readonly policies: SubjectPolicies,
    private readonly logger: Logger,
  ) {}

  async admit(subject: string, data: unknown, headers: MsgHdrs | undefined): Promise<CallContext | undefined> {
    const policy = this.policies[subject];
    if (!policy) {
      const requestId = headers?.get(HEADER.requestId) || undefined;
      this.logger.warn({ subject, requestId }, 'refused a request on a subject with no policy');
      throw new PlatformError('ACCESS_DENIED', undefined, { diagnostics: `${subject} is not open to anyone` });
    }
    if ('public' in policy) return undefined;
    try {
      const verified = await this.verifier.verify(subject, data, headers?.get(HEADER.callerAssertion) || undefined);
      const roles = verified.context.caller?.roles ?? [];
      if (!roles.some((role) => policy.roles.includes(role))) {
        throw new PlatformError('ACCESS_DENIED', undefined, {
          diagnostics: `${subject} is open to ${policy.roles.join(', ')}; the caller has none of these roles`,
        });
      }
      return verified.context;
    } catch (error) {
      const requestId = headers?.get(HEADER.requestId) || undefined;
      const reason = error instanceof PlatformError ? error.diagnostics : 'verification failed';
      this.logger.warn({ subject, requestId, reason }, 'caller context refused');
      throw error instanceof PlatformError ? error : new PlatformError('ACCESS_DENIED');
    }
  }
}
