import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  EPS_EVENTS,
  type PrescriberKeyRegisteredMessage,
  type RegisterPrescriberKeyReply,
  type RegisterPrescriberKeyRequest,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { PrescriberKeyRepository } from '../shared/prescriber-key.repository';
import { checkedPrescriberKey, type PrescriberPublicKey } from '../signing/key-fingerprint';

/**
 * The registration itself, in the caller's transaction: refuses a revoked key, makes `key` the prescriber's
 * current key and records the registration; answers the reply and the event to publish. The use case and
 * `npm run eps -- keygen` both register keys through it.
 */
export async function registerPrescriberKey(
  transaction: PoolClient,
  keys: PrescriberKeyRepository,
  sdsUserId: string,
  key: PrescriberPublicKey,
  by: { actor: string; actorOrganisation: string | null; requestId: string },
): Promise<{ reply: RegisterPrescriberKeyReply; event: PrescriberKeyRegisteredMessage }> {
  const known = await keys.byFingerprint(sdsUserId, key.fingerprint, transaction);
  if (known?.revokedAt) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: `Key ${key.fingerprint} of prescriber ${sdsUserId} was revoked and cannot be registered again`,
      expression: ['publicKeyPem'],
    });
  }
  const registration = await keys.register(transaction, sdsUserId, key, by);
  return {
    reply: { sdsUserId, fingerprint: registration.fingerprint },
    event: {
      sdsUserId,
      fingerprint: registration.fingerprint,
      previousFingerprint: registration.previousFingerprint,
      registeredBy: registration.registeredBy,
      requestId: registration.requestId,
      occurredAt: registration.registeredAt,
    },
  };
}

/**
 * Registers a prescriber's public signing key, by SDS user ID, as their current key (the policy lets only
 * operations, `ops`, call it). The earlier keys stay: a prescription is verified again at release with the
 * key that verified it at creation, so a rotation breaks nothing already prescribed, while new prescriptions
 * need the new key. Exactly once per X-Request-ID (a retry gets the first answer and changes nothing);
 * recorded in `prescriber_key_registration` (who, which prescriber, which key, when, which request) and
 * published as `eps.prescriber-key.registered.v1` through the outbox. A revoked key cannot be registered again.
 */
@Injectable()
export class RegisterPrescriberKeyUseCase {
  constructor(
    private readonly keys: PrescriberKeyRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: RegisterPrescriberKeyRequest, context: CallContext): Promise<RegisterPrescriberKeyReply> {
    const key = checkedPrescriberKey(request.publicKeyPem);
    const reply = await this.writes.run(
      writeKey(context, 'prescriber-key.register', { sdsUserId: request.sdsUserId, fingerprint: key.fingerprint }),
      async (transaction) => {
        const { reply: registered, event } = await registerPrescriberKey(
          transaction,
          this.keys,
          request.sdsUserId,
          key,
          actorOf(context),
        );
        await this.outbox.append(transaction, EPS_EVENTS.prescriberKeyRegistered, event, context);
        return registered;
      },
    );
    this.outbox.kick();
    return reply;
  }
}
