import { Injectable } from '@nestjs/common';
import type { IpOwner } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { OwnerIndex } from '../shared/owner-index';
import { parseAddress } from './cidr';

/** The owner of an address: answered from the in-memory owner table (see OwnerIndex), not a database round trip. */
@Injectable()
export class FindIpOwnerUseCase {
  constructor(private readonly owners: OwnerIndex) {}

  execute(ip: string): IpOwner {
    const address = parseAddress(ip);
    const owner = this.owners.lookup(address);
    if (!owner) {
      throw new PlatformError('NO_LIVE_OWNER', undefined, { diagnostics: `No live connection holds ${address}` });
    }
    return owner;
  }
}
