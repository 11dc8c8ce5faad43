/**
 * The one list of the platform's national-application services. The launcher starts what it lists, the
 * benchmarks and the end-to-end setup give each its port and schema, the gateway's readiness asks each its
 * health subject, and the chart and kustomize tests check that each has its deployment. Adding a service is
 * an entry here (the service generator writes it) and its own app and contracts, nothing else by hand.
 */
export interface ServiceEntry {
  /** Project name: the Nx project, the NATS queue group, the Helm block and app.kubernetes.io/name. */
  name: string;
  /** First word of every NATS subject the service serves (`pds` in `pds.patient.get.v1`). */
  subjectPrefix: string;
  /** Prefix of its environment variables (`PDS` in `PDS_HTTP_PORT`, `PDS_DB_SCHEMA`). */
  envPrefix: string;
  /** Its PostgreSQL schema unless `<envPrefix>_DB_SCHEMA` says otherwise. */
  schema: string;
  /** Port of /health/live, /health/ready and /metrics unless `<envPrefix>_HTTP_PORT` says otherwise. */
  healthPort: number;
  /** Its entry point, relative to dist/. */
  entry: string;
  /** Whether it takes `<envPrefix>_SEED=sandbox` (the NHS sandbox data) when started locally. */
  sandboxSeed: boolean;
  /** The JetStream stream its events go to, if it publishes any. */
  eventStream?: string;
  /**
   * The event subjects it publishes to that stream (its contracts' `<P>_EVENTS`, which the catalogue test holds
   * this list to). They share the service's prefix with its request subjects: only the service itself may
   * publish them, so that no caller can put a forged event in its stream.
   */
  events?: readonly string[];
  /**
   * The request subjects of other services it calls (`pds.patient.get.v1`): its NATS user may publish these
   * and no other service's subjects (see nats-permissions.ts). The gateway calls every service.
   */
  calls?: readonly string[];
  /**
   * JetStream object stores it owns (creates, reads, deletes), and which other processes (`gateway` or a
   * service name) may put objects into each.
   */
  objectStores?: readonly { bucket: string; putBy: readonly string[] }[];
  /**
   * Other services' events it follows through JetStream durable pull consumers, each named and filtered to one
   * subject: its NATS user may create, read and pull from exactly these consumers and acknowledge their messages.
   */
  consumes?: readonly { stream: string; durable: string; subject: string }[];
  /**
   * Whether large bodies stream through it in pieces by the thousand (GP2GP attachments, 35 MB mail): it runs
   * with STREAMING_ENVIRONMENT's memory settings, as the gateway does (launcher, benchmarks, chart values).
   */
  streamsLargeBodies?: boolean;
  /**
   * Its V8 semi-space size (MiB) under those settings, when not streamingEnvironment's 2 MiB: a larger young
   * generation for a service whose CPU goes to collecting many small short-lived objects, if its peak memory
   * allows (docs/benchmarks.md, NHSmail).
   */
  semiSpaceMiB?: number;
  /** ANSI colour of its label in the launcher's output. */
  colour: string;
}

/**
 * Memory settings of the processes large bodies stream through. Buffers of 128 KiB to 1 MiB freed by the
 * thousand stay in glibc's arenas, and V8's default young generation (16 MiB semi-spaces) holds many pieces'
 * garbage: together they took gp2gp, the gateway and the mail relay over 256 MiB of RSS. Big buffers mmapped
 * (unmapped when freed), two arenas and 2 MiB semi-spaces keep them near their idle size (docs/benchmarks.md,
 * GP2GP and NHSmail); a service may take larger semi-spaces (`semiSpaceMiB`). Values already in `given` win; a
 * given NODE_OPTIONS keeps its flags.
 */
export function streamingEnvironment(
  given: Readonly<Record<string, string | undefined>>,
  semiSpaceMiB = 2,
): Record<string, string> {
  return {
    MALLOC_ARENA_MAX: given['MALLOC_ARENA_MAX'] ?? '2',
    MALLOC_MMAP_THRESHOLD_: given['MALLOC_MMAP_THRESHOLD_'] ?? String(128 * 1024),
    NODE_OPTIONS: [given['NODE_OPTIONS'], `--max-semi-space-size=${semiSpaceMiB}`].filter(Boolean).join(' '),
  };
}

export const SERVICES: readonly ServiceEntry[] = [
  {
    name: 'pds',
    subjectPrefix: 'pds',
    envPrefix: 'PDS',
    schema: 'pds',
    healthPort: 9464,
    entry: 'apps/pds/src/main.js',
    sandboxSeed: true,
    eventStream: 'PDS_EVENTS',
    events: [
      'pds.patient.updated.v1',
      'pds.patient.created.v1',
      'pds.patient.deceased.v1',
      'pds.patient.registered.v1',
    ],
    colour: '36',
  },
  {
    name: 'n3-registry',
    subjectPrefix: 'n3',
    envPrefix: 'N3',
    schema: 'n3',
    healthPort: 9465,
    entry: 'apps/n3-registry/src/main.js',
    sandboxSeed: true,
    eventStream: 'N3_EVENTS',
    events: [
      'n3.connection.ordered.v1',
      'n3.connection.provisioning-started.v1',
      'n3.connection.went-live.v1',
      'n3.connection.migration-started.v1',
      'n3.connection.migration-abandoned.v1',
      'n3.connection.ceased.v1',
      'n3.ip-allocation.assigned.v1',
      'n3.ip-allocation.released.v1',
    ],
    objectStores: [{ bucket: 'n3-imports', putBy: ['gateway'] }],
    colour: '32',
  },
  {
    name: 'eps',
    subjectPrefix: 'eps',
    envPrefix: 'EPS',
    schema: 'eps',
    healthPort: 9466,
    entry: 'apps/eps/src/main.js',
    sandboxSeed: false,
    eventStream: 'EPS_EVENTS',
    events: [
      'eps.prescription.created.v1',
      'eps.prescription.released.v1',
      'eps.prescription.release-failed.v1',
      'eps.prescription.returned.v1',
      'eps.prescription.cancelled.v1',
      'eps.prescription.dispensed.v1',
      'eps.prescription.dispense-withdrawn.v1',
      'eps.prescription.claimed.v1',
      'eps.prescription.expired.v1',
      'eps.prescription.next-issue.v1',
      'eps.prescription.cancellation-requested.v1',
      'eps.prescriber-key.registered.v1',
    ],
    calls: ['pds.patient.get.v1', 'n3.organisation.get.v1'],
    colour: '34',
  },
  {
    name: 'e-referrals',
    subjectPrefix: 'ers',
    envPrefix: 'ERS',
    schema: 'ers',
    healthPort: 9467,
    entry: 'apps/e-referrals/src/main.js',
    sandboxSeed: true,
    eventStream: 'ERS_EVENTS',
    events: [
      'ers.referral.created.v1',
      'ers.referral.booked.v1',
      'ers.referral.deferred.v1',
      'ers.referral.sent-for-triage.v1',
      'ers.referral.shortlist-changed.v1',
      'ers.referral.appointment-cancelled.v1',
      'ers.referral.cancelled.v1',
      'ers.referral.accepted.v1',
      'ers.referral.rejected.v1',
      'ers.referral.review-outcome-recorded.v1',
      'ers.attachment.uploaded.v1',
      'ers.referral.letters-changed.v1',
      'ers.advice.created.v1',
      'ers.advice.responded.v1',
      'ers.advice.converted.v1',
    ],
    objectStores: [{ bucket: 'ers-uploads', putBy: ['gateway'] }],
    calls: ['pds.patient.get.v1', 'n3.organisation.get.v1'],
    colour: '35',
  },
  {
    name: 'gp2gp',
    subjectPrefix: 'gp2gp',
    envPrefix: 'GP2GP',
    schema: 'gp2gp',
    healthPort: 9468,
    entry: 'apps/gp2gp/src/main.js',
    sandboxSeed: false,
    eventStream: 'GP2GP_EVENTS',
    events: ['gp2gp.transfer.completed.v1', 'gp2gp.transfer.failed.v1', 'gp2gp.transfer.timed-out.v1'],
    calls: ['pds.patient.get.v1', 'n3.organisation.get.v1'],
    objectStores: [{ bucket: 'gp2gp-fragments', putBy: [] }],
    streamsLargeBodies: true,
    colour: '33',
  },
  {
    name: 'nhsmail-relay',
    subjectPrefix: 'nhsmail',
    envPrefix: 'NHSMAIL',
    schema: 'nhsmail',
    healthPort: 9469,
    entry: 'apps/nhsmail-relay/src/main.js',
    sandboxSeed: false,
    eventStream: 'NHSMAIL_EVENTS',
    events: [
      'nhsmail.message.accepted.v1',
      'nhsmail.message.delivered.v1',
      'nhsmail.message.bounced.v1',
      'nhsmail.message.delayed.v1',
    ],
    calls: ['n3.ip-owner.get.v1', 'n3.organisation.search.v1'],
    // Events mailed to GP practices (apps/nhsmail-relay/src/notices/notice-content.ts NOTICE_SOURCES).
    consumes: [
      { stream: 'GP2GP_EVENTS', durable: 'nhsmail-gp2gp-timed-out', subject: 'gp2gp.transfer.timed-out.v1' },
      { stream: 'ERS_EVENTS', durable: 'nhsmail-ers-referral-rejected', subject: 'ers.referral.rejected.v1' },
      { stream: 'ERS_EVENTS', durable: 'nhsmail-ers-advice-responded', subject: 'ers.advice.responded.v1' },
      { stream: 'ERS_EVENTS', durable: 'nhsmail-ers-advice-converted', subject: 'ers.advice.converted.v1' },
      {
        stream: 'ERS_EVENTS',
        durable: 'nhsmail-ers-appointment-cancelled',
        subject: 'ers.referral.appointment-cancelled.v1',
      },
    ],
    streamsLargeBodies: true,
    // Many small objects per message (SMTP commands, MIME headers, queries): in 2 MiB semi-spaces the collector
    // took a tenth of its main thread, and that thread is its limit (docs/benchmarks.md, NHSmail).
    semiSpaceMiB: 8,
    colour: '31',
  },
  // service-generator: new entries above this line
];

/** The names of a service's own environment variables. */
export function serviceVariables(service: ServiceEntry): {
  httpPort: string;
  httpHost: string;
  schema: string;
  poolSize: string;
  seed: string;
} {
  const prefix = service.envPrefix;
  return {
    httpPort: `${prefix}_HTTP_PORT`,
    httpHost: `${prefix}_HTTP_HOST`,
    schema: `${prefix}_DB_SCHEMA`,
    poolSize: `${prefix}_DB_POOL_SIZE`,
    seed: `${prefix}_SEED`,
  };
}

/** The NATS subject every service answers for its readiness (and the gateway's): `<prefix>.health.check.v1`. */
export function healthSubject(service: ServiceEntry): string {
  return `${service.subjectPrefix}.health.check.v1`;
}

export function serviceNamed(name: string): ServiceEntry {
  const found = SERVICES.find((service) => service.name === name);
  if (!found) throw new Error(`no service named ${name} in the catalogue`);
  return found;
}
