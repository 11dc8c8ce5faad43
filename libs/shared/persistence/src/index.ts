export { connectionsLike, type OwnConnections } from './connections-like';
export { copyArray, copyField } from './copy-text';
export {
  migrationSchema,
  openServiceDatabase,
  poolOf,
  type DatabaseSettings,
  type PoolTimeouts,
  type ServiceDatabase,
} from './database';
export { Housekeeping, type Retention } from './housekeeping';
export { IdempotentWrites, writeKey, type WriteKey } from './idempotent-writes';
export { ensureEventStream, Outbox, type OutboxOptions } from './outbox';
export { prepared } from './prepared';
export { createWriteTables, dropWriteTables } from './write-tables';
export { shutdownHook, writeSide, writeSideProviders, type WriteSide } from './write-side';
export { withTransaction } from './transaction';
