import { Injectable } from '@nestjs/common';
import type { RegisterPrescriberKeyRequest } from '@platform/contracts-eps';
import { PrescriberKeyRepository } from '../shared/prescriber-key.repository';

/** Registers (or replaces) a prescriber's public signing key, by SDS user ID. */
@Injectable()
export class RegisterPrescriberKeyUseCase {
  constructor(private readonly keys: PrescriberKeyRepository) {}

  async execute(request: RegisterPrescriberKeyRequest): Promise<{ sdsUserId: string }> {
    await this.keys.register(request.sdsUserId, request.publicKeyPem);
    return { sdsUserId: request.sdsUserId };
  }
}
