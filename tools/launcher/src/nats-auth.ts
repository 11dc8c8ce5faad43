import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import {
  eventsOf,
  GATEWAY_NATS_USER,
  inboxPrefix,
  platformNatsPermissions,
  SERVICES,
  type NatsPermissions,
  type ServiceEntry,
} from '@platform/shared-catalogue';

/**
 * The NATS users of a local run: one per process (each service of the catalogue and the gateway), with the
 * permissions the catalogue gives it, and fresh random passwords every run. Optionally a `test` user for
 * the end-to-end tests and benchmarks, which call services and read stream info as the gateway does.
 */
export interface NatsUser {
  permissions: NatsPermissions;
  password: string;
}

/** The user the e2e tests and benchmarks may ask for (LAUNCHER_NATS_TEST_PASSWORD). */
export const TEST_NATS_USER = 'test';

/** A password safe in a URL and in the server configuration: 32 random bytes, hex. */
export function randomPassword(): string {
  return randomBytes(32).toString('hex');
}

/** The test user: the gateway's calls (not its object stores) and the info of every stream, nothing else. */
export function testNatsPermissions(services: readonly ServiceEntry[] = SERVICES): NatsPermissions {
  return {
    user: TEST_NATS_USER,
    publish: [...services.map((service) => `${service.subjectPrefix}.>`), '$JS.API.INFO', '$JS.API.STREAM.INFO.*'],
    publishDeny: eventsOf(services),
    subscribe: [`${inboxPrefix(TEST_NATS_USER)}.>`],
    allowResponses: false,
  };
}

/** Every process's user with a new password; `testPassword` adds the test user. */
export function natsUsers(
  options: { testPassword?: string; services?: readonly ServiceEntry[] } = {},
): Map<string, NatsUser> {
  const services = options.services ?? SERVICES;
  const users = new Map<string, NatsUser>();
  for (const permissions of platformNatsPermissions(services))
    users.set(permissions.user, { permissions, password: randomPassword() });
  if (options.testPassword)
    users.set(TEST_NATS_USER, { permissions: testNatsPermissions(services), password: options.testPassword });
  return users;
}

/** A string in the server configuration's syntax (quoted, so `$JS...` is not read as a variable). */
function quoted(value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} into the NATS configuration`);
  return `"${value}"`;
}

function list(values: readonly string[]): string {
  return `[${values.map(quoted).join(', ')}]`;
}

/**
 * The nats-server (2.9) configuration: listen address, JetStream with its store, and an authorization
 * block with one user per process. A user may publish and subscribe only to what its permissions allow;
 * `allow_responses` lets a service answer the requests it receives (one reply each) without publishing to
 * other inboxes. No user, no access: a client without credentials is refused at connect.
 */
export function natsServerConfig(settings: {
  host: string;
  port: number;
  storeDir: string;
  users: ReadonlyMap<string, NatsUser>;
}): string {
  const users = [...settings.users.values()].map(({ permissions, password }) =>
    [
      '    {',
      `      user: ${quoted(permissions.user)}`,
      `      password: ${quoted(password)}`,
      '      permissions: {',
      permissions.publishDeny.length > 0
        ? `        publish: { allow: ${list(permissions.publish)}, deny: ${list(permissions.publishDeny)} }`
        : `        publish: { allow: ${list(permissions.publish)} }`,
      `        subscribe: { allow: ${list(permissions.subscribe)} }`,
      ...(permissions.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n'),
  );
  return [
    '# Written by the platform launcher for this run (passwords are new every run). Do not edit.',
    `host: ${quoted(settings.host)}`,
    `port: ${settings.port}`,
    'jetstream {',
    `  store_dir: ${quoted(settings.storeDir)}`,
    '}',
    'authorization {',
    '  users: [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** Writes the configuration readable by its owner only (it holds the passwords). */
export function writeNatsServerConfig(file: string, config: string): void {
  writeFileSync(file, config, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** `nats://user:password@host:port`: what a process gets as NATS_URL. */
export function natsUrlFor(user: string, password: string, host: string, port: number): string {
  return `nats://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`;
}

export { GATEWAY_NATS_USER };
