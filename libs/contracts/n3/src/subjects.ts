/** NATS subjects the N3 registry serves (request/reply). Breaking changes get a v2 beside v1. */
export const N3_SUBJECTS = {
  organisationGet: 'n3.organisation.get.v1',
  organisationSearch: 'n3.organisation.search.v1',
  organisationUpsert: 'n3.organisation.upsert.v1',
  organisationImport: 'n3.organisation.import.v1',
  siteCreate: 'n3.site.create.v1',
  siteList: 'n3.site.list.v1',
  connectionCreate: 'n3.connection.create.v1',
  connectionGet: 'n3.connection.get.v1',
  connectionList: 'n3.connection.list.v1',
  connectionTransition: 'n3.connection.transition.v1',
  connectionHistory: 'n3.connection.history.v1',
  allocationCreate: 'n3.ip-allocation.create.v1',
  allocationRelease: 'n3.ip-allocation.release.v1',
  ipOwner: 'n3.ip-owner.get.v1',
  healthCheck: 'n3.health.check.v1',
} as const;

/**
 * Events the registry publishes on JetStream (past tense), one per lifecycle step. The stream lists them one
 * by one: a wildcard such as `n3.connection.>` would also capture the request subjects above.
 */
export const N3_EVENTS = {
  connectionOrdered: 'n3.connection.ordered.v1',
  connectionProvisioningStarted: 'n3.connection.provisioning-started.v1',
  connectionWentLive: 'n3.connection.went-live.v1',
  connectionMigrationStarted: 'n3.connection.migration-started.v1',
  connectionMigrationAbandoned: 'n3.connection.migration-abandoned.v1',
  connectionCeased: 'n3.connection.ceased.v1',
  allocationAssigned: 'n3.ip-allocation.assigned.v1',
  allocationReleased: 'n3.ip-allocation.released.v1',
} as const;

/** The JetStream stream that keeps the registry's events. */
export const N3_EVENT_STREAM = 'N3_EVENTS';

/** The JetStream object store bucket the gateway drops ODS extracts into for the registry to import. */
export const N3_IMPORT_BUCKET = 'n3-imports';

/** The queue group every registry replica subscribes in. */
export const N3_QUEUE = 'n3-registry';
