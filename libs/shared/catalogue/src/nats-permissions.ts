import { SERVICES, type ServiceEntry } from './services';

/**
 * What each process may do on NATS, derived from the catalogue: the subjects it may publish and subscribe
 * to, and whether it may answer requests. The launcher writes them into its nats-server configuration; an
 * operator gives production NATS the same (docs/messaging.md, "NATS credentials and permissions"). Only
 * NATS server 2.9 features: users with publish/subscribe allow lists and `allow_responses`.
 */
export interface NatsPermissions {
  /** The NATS user name (the process name: a service's, or `gateway`). */
  user: string;
  publish: string[];
  /** Subjects refused even where `publish` allows them: other processes' events. */
  publishDeny: string[];
  subscribe: string[];
  /** May publish one reply to the reply subject of each request it received (it serves requests). */
  allowResponses: boolean;
}

/** The gateway's NATS user: it calls every service's request subjects. */
export const GATEWAY_NATS_USER = 'gateway';

/**
 * Each process's own inbox prefix (`_INBOX.<user>`): replies to its requests, JetStream acks and its
 * consumers' deliveries come there, and no other user may subscribe to it. connectNats and bootstrapService
 * set it from the user name in NATS_URL.
 */
export function inboxPrefix(user: string): string {
  return `_INBOX.${user}`;
}

/** The JetStream API subjects of one stream's management (the stream a service creates at start). */
function streamManagement(stream: string): string[] {
  return ['INFO', 'CREATE', 'UPDATE'].map((verb) => `$JS.API.STREAM.${verb}.${stream}`);
}

/** Every JetStream user asks the account's JetStream info first (nats.js's jetstreamManager does). */
const JS_INFO = '$JS.API.INFO';

/** Putting objects into a bucket: its stream's info, reading its metadata, chunks and metadata. */
function objectStorePut(bucket: string): string[] {
  const stream = `OBJ_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$O.${bucket}.C.>`,
    `$O.${bucket}.M.>`,
  ];
}

/**
 * Owning a bucket: creating it, putting objects into it (its chunks and metadata: gp2gp stores its fragments
 * itself), reading objects (an ordered consumer, or direct gets) and deleting them (a purge).
 */
function objectStoreOwn(bucket: string): string[] {
  const stream = `OBJ_${bucket}`;
  return [
    ...streamManagement(stream),
    `$JS.API.STREAM.MSG.GET.${stream}`,
    // Direct gets of a message by sequence (the request names the stream only), and of a subject's last one.
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.STREAM.PURGE.${stream}`,
    // nats.js finds the stream of a consumer's subject by name lookup first (names only, no content).
    '$JS.API.STREAM.NAMES',
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$O.${bucket}.C.>`,
    `$O.${bucket}.M.>`,
  ];
}

/**
 * Following another service's events through one named durable pull consumer (nats-server 2.9's filtered
 * create subject): creating it, reading its info, pulling its next messages and acknowledging them.
 */
function durableConsumer(consumer: { stream: string; durable: string; subject: string }): string[] {
  const { stream, durable, subject } = consumer;
  return [
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.${subject}`,
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/** Every event subject the given services publish. */
export function eventsOf(services: readonly ServiceEntry[]): string[] {
  return services.flatMap((service) => service.events ?? []);
}

function unique(subjects: string[]): string[] {
  return [...new Set(subjects)];
}

function serviceOfSubject(subject: string, services: readonly ServiceEntry[]): ServiceEntry | undefined {
  return services.find((service) => subject.startsWith(`${service.subjectPrefix}.`));
}

/**
 * A service: it subscribes to its own subjects (`<prefix>.>`: its requests, and its own events for a
 * replica that follows them) and its inbox, publishes within its prefix (its events, its own health
 * check) and the request subjects it calls, answers requests, and manages its event stream and the
 * object stores it owns.
 */
export function serviceNatsPermissions(
  service: ServiceEntry,
  services: readonly ServiceEntry[] = SERVICES,
): NatsPermissions {
  for (const subject of service.calls ?? []) {
    const callee = serviceOfSubject(subject, services);
    if (!callee || callee.name === service.name || /[*>]/.test(subject))
      throw new Error(`${service.name} calls ${subject}: not a request subject of another catalogued service`);
  }
  const jetstream = [
    ...(service.eventStream ? streamManagement(service.eventStream) : []),
    ...(service.objectStores ?? []).flatMap((store) => objectStoreOwn(store.bucket)),
    ...services
      .filter((other) => other.name !== service.name)
      .flatMap((other) => other.objectStores ?? [])
      .filter((store) => store.putBy.includes(service.name))
      .flatMap((store) => objectStorePut(store.bucket)),
    ...(service.consumes ?? []).flatMap(durableConsumer),
  ];
  return {
    user: service.name,
    publish: unique([
      `${service.subjectPrefix}.>`,
      ...(service.calls ?? []),
      ...(jetstream.length > 0 ? [JS_INFO, ...jetstream] : []),
    ]),
    // Every other service's events: none of them lies under this service's prefix or its calls today, but
    // the deny keeps it so if a call list ever names one.
    publishDeny: eventsOf(services.filter((other) => other.name !== service.name)),
    subscribe: [`${service.subjectPrefix}.>`, `${inboxPrefix(service.name)}.>`],
    allowResponses: true,
  };
}

/**
 * The gateway: it publishes every service's subjects (it calls them all) and puts into the object stores
 * that name it, subscribes to its inbox only (not to any service's subjects: it would see every request),
 * and answers nothing.
 */
export function gatewayNatsPermissions(services: readonly ServiceEntry[] = SERVICES): NatsPermissions {
  const stores = services
    .flatMap((service) => service.objectStores ?? [])
    .filter((store) => store.putBy.includes(GATEWAY_NATS_USER));
  return {
    user: GATEWAY_NATS_USER,
    publish: unique([
      ...services.map((service) => `${service.subjectPrefix}.>`),
      ...(stores.length > 0 ? [JS_INFO, ...stores.flatMap((store) => objectStorePut(store.bucket))] : []),
    ]),
    // It may call every request subject under a service's prefix, but not publish the events beside them.
    publishDeny: eventsOf(services),
    subscribe: [`${inboxPrefix(GATEWAY_NATS_USER)}.>`],
    allowResponses: false,
  };
}

/** Every process of the platform on the bus: each service of the catalogue and the gateway. */
export function platformNatsPermissions(services: readonly ServiceEntry[] = SERVICES): NatsPermissions[] {
  return [...services.map((service) => serviceNatsPermissions(service, services)), gatewayNatsPermissions(services)];
}
