import type { ServiceNames } from '../names';

/**
 * The service's public API, in the shape of libs/contracts/pds and n3: subjects, payload classes, errors,
 * a typed client over NatsRpcClient.requestValidated, a fake client for consumers' tests, a contract test
 * and the test that holds docs/messaging.md to the subject constants.
 */
export function contractsFiles(n: ServiceNames): Record<string, string> {
  const dir = n.contractsDir;
  return {
    [`${dir}/project.json`]: projectJson(n),
    [`${dir}/README.md`]: readme(n),
    [`${dir}/src/subjects.ts`]: subjects(n),
    [`${dir}/src/items.ts`]: items(),
    [`${dir}/src/events.ts`]: events(n),
    [`${dir}/src/errors.ts`]: errors(n),
    [`${dir}/src/client.ts`]: client(n),
    [`${dir}/src/fake-client.ts`]: fakeClient(n),
    [`${dir}/src/policy.ts`]: policy(n),
    [`${dir}/src/index.ts`]: index(n),
    [`${dir}/src/contract.spec.ts`]: contractSpec(n),
    [`${dir}/src/messaging-doc.spec.ts`]: messagingDocSpec(n),
  };
}

function projectJson(n: ServiceNames): string {
  return `${JSON.stringify(
    {
      name: `contracts-${n.subjectPrefix}`,
      $schema: '../../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${n.contractsDir}/src`,
      projectType: 'library',
      tags: [`scope:${n.name}`, 'type:contracts'],
    },
    null,
    2,
  )}\n`;
}

function readme(n: ServiceNames): string {
  const P = n.envPrefix;
  return `# contracts-${n.subjectPrefix} (\`${n.contractsAlias}\`)

The public API of [${n.name}](../../../apps/${n.name}/README.md): the only thing other projects may import
from the service. Nx project \`contracts-${n.subjectPrefix}\`, tags \`scope:${n.name}\`, \`type:contracts\`.

- \`${P}_SUBJECTS\`, \`${P}_EVENTS\`, \`${P}_EVENT_STREAM\` (\`${n.stream}\`), \`${P}_QUEUE\` (\`${n.name}\`): \`src/subjects.ts\`.
- Payload classes (\`class-validator\`; unknown fields are refused on both sides): \`CreateItemRequest\`,
  \`GetItemRequest\`; the reply \`Item\`; the event \`ItemCreatedEvent\`.
- Error codes: \`${P}_ERRORS\` (\`${n.notFoundCode}\`, 404, code system \`${n.codeSystem}\`).
- \`${n.pascal}Client\`: the typed client (validates what it sends and the shape of what it receives, carries
  the call context in NATS headers); \`Fake${n.pascal}Client\`: an in-memory stand-in for consumers' unit tests.

Every subject is listed in [docs/messaging.md](../../../docs/messaging.md); \`src/messaging-doc.spec.ts\`
fails when the page and the constants differ.
`;
}

function subjects(n: ServiceNames): string {
  const P = n.envPrefix;
  return `/** NATS subjects ${n.name} serves (request/reply). Breaking changes get a v2 beside v1. */
export const ${P}_SUBJECTS = {
  itemCreate: '${n.subjects.itemCreate}',
  itemGet: '${n.subjects.itemGet}',
  healthCheck: '${n.subjects.healthCheck}',
} as const;

/**
 * Events ${n.name} publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as \`${n.subjectPrefix}.item.>\` would also capture the request subjects above and answer them with acks.
 */
export const ${P}_EVENTS = {
  itemCreated: '${n.events.itemCreated}',
} as const;

/** The JetStream stream that keeps ${n.name}'s events. */
export const ${P}_EVENT_STREAM = '${n.stream}';

/** The queue group every ${n.name} replica subscribes in. */
export const ${P}_QUEUE = '${n.name}';
`;
}

function items(): string {
  return `import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

/** An item, as the service answers it. */
export interface Item {
  id: string;
  name: string;
  description: string | null;
  version: number;
  /** ISO 8601. */
  createdAt: string;
}

export class CreateItemRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class GetItemRequest {
  @IsUUID()
  itemId!: string;
}
`;
}

function events(n: ServiceNames): string {
  return `/** \`${n.events.itemCreated}\`: an item was created. */
export interface ItemCreatedEvent {
  itemId: string;
  version: number;
  occurredAt: string;
}
`;
}

function errors(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** ${n.name}'s own codes: its API is not FHIR, so errors go out as RFC 9457 problem details. */
export const ${P}_CODE_SYSTEM = '${n.codeSystem}';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: ${P}_CODE_SYSTEM, severity: 'error' };
}

/** Codes are one registry across the platform, so each of the service's own carries its prefix. */
export const ${P}_OWN_ERRORS = defineErrors({
  ${n.notFoundCode}: own(404, 'not-found', 'No such item'),
});

/** The codes a ${n.name} request can fail with. */
export const ${P}_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  ...${P}_OWN_ERRORS,
} as const;

export type ${n.pascal}ErrorCode = keyof typeof ${P}_ERRORS;
`;
}

function client(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import { CreateItemRequest, GetItemRequest, type Item } from './items';
import { ${P}_SUBJECTS } from './subjects';

/** What other projects may ask of ${n.name}. */
export interface ${n.pascal}Api {
  /** Creates an item; exactly once per (caller, X-Request-ID). */
  createItem(request: CreateItemRequest, context: CallContext): Promise<Item>;
  /** One item (${n.notFoundCode} otherwise). */
  getItem(request: GetItemRequest, context: CallContext): Promise<Item>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expectItem(reply: unknown): Item {
  const item = reply as Partial<Item> | null;
  const valid =
    typeof item === 'object' &&
    item !== null &&
    typeof item.id === 'string' &&
    typeof item.name === 'string' &&
    (item.description === null || typeof item.description === 'string') &&
    Number.isInteger(item.version) &&
    typeof item.createdAt === 'string';
  if (!valid) throw new PlatformError('REC_SERVER_ERROR', '${n.name} answered with something that is not an item');
  return item as Item;
}

/** The typed ${n.name} client: validates what it sends and the shape of what it receives, over NATS. */
export class ${n.pascal}Client implements ${n.pascal}Api {
  constructor(private readonly rpc: NatsRpcClient) {}

  async createItem(request: CreateItemRequest, context: CallContext): Promise<Item> {
    return expectItem(await this.rpc.requestValidated(${P}_SUBJECTS.itemCreate, CreateItemRequest, request, context));
  }

  async getItem(request: GetItemRequest, context: CallContext): Promise<Item> {
    return expectItem(await this.rpc.requestValidated(${P}_SUBJECTS.itemGet, GetItemRequest, request, context));
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(${P}_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}
`;
}

function fakeClient(n: ServiceNames): string {
  return `import { randomUUID } from 'node:crypto';
import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import type { ${n.pascal}Api } from './client';
import './errors';
import { CreateItemRequest, GetItemRequest, type Item } from './items';

/** An in-memory ${n.name} for consumers' unit tests: same validation, answers and error codes as the real client. */
export class Fake${n.pascal}Client implements ${n.pascal}Api {
  private readonly items = new Map<string, Item>();
  /** Answers by caller and X-Request-ID, so a retried write returns the first answer. */
  private readonly writes = new Map<string, Item>();

  withItem(item: Item): this {
    this.items.set(item.id, item);
    return this;
  }

  async createItem(request: CreateItemRequest, context: CallContext): Promise<Item> {
    const checked = await validatePayload(CreateItemRequest, request);
    const key = \`\${context.caller?.id ?? 'anonymous'} \${context.requestId}\`;
    const earlier = this.writes.get(key);
    if (earlier) return earlier;
    const item: Item = {
      id: randomUUID(),
      name: checked.name,
      description: checked.description ?? null,
      version: 1,
      createdAt: new Date().toISOString(),
    };
    this.items.set(item.id, item);
    this.writes.set(key, item);
    return item;
  }

  async getItem(request: GetItemRequest): Promise<Item> {
    const { itemId } = await validatePayload(GetItemRequest, request);
    const item = this.items.get(itemId);
    if (!item) throw new PlatformError('${n.notFoundCode}');
    return item;
  }

  health(): Promise<{ status: 'ok'; service: string }> {
    return Promise.resolve({ status: 'ok', service: '${n.name}' });
  }
}
`;
}

function index(n: ServiceNames): string {
  const P = n.envPrefix;
  return `export { ${n.pascal}Client, type ${n.pascal}Api } from './client';
export { ${P}_CODE_SYSTEM, ${P}_ERRORS, ${P}_OWN_ERRORS, type ${n.pascal}ErrorCode } from './errors';
export type { ItemCreatedEvent } from './events';
export { Fake${n.pascal}Client } from './fake-client';
export { CreateItemRequest, GetItemRequest, type Item } from './items';
export { ${P}_READERS, ${P}_SUBJECT_POLICIES, ${P}_WRITERS } from './policy';
export { ${P}_EVENT_STREAM, ${P}_EVENTS, ${P}_QUEUE, ${P}_SUBJECTS } from './subjects';
`;
}

function policy(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import type { SubjectPolicies } from '@platform/shared-nats';
import { ${P}_SUBJECTS } from './subjects';

/** Who may create items; who may read them: set them to the service's real audience (BRIEF section 3, Roles). */
export const ${P}_WRITERS = ['ops'] as const;
export const ${P}_READERS = ['ops'] as const;

/** Who may call each subject, checked by ${n.name} itself against the verified caller. */
export const ${P}_SUBJECT_POLICIES: SubjectPolicies = {
  [${P}_SUBJECTS.itemCreate]: { roles: ${P}_WRITERS },
  [${P}_SUBJECTS.itemGet]: { roles: ${P}_READERS },
  [${P}_SUBJECTS.healthCheck]: { public: true },
};
`;
}

function contractSpec(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { ${n.pascal}Client } from './client';
import { ${P}_CODE_SYSTEM } from './errors';
import { Fake${n.pascal}Client } from './fake-client';
import type { Item } from './items';
import { ${P}_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const context: CallContext = { requestId: 'r-1', caller: { id: 'user-1', roles: ['ops'] } };
const item: Item = {
  id: '0b6f7a52-4c1e-4d4b-9a55-2f1f0c6a9e10',
  name: 'an item',
  description: null,
  version: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
};

describe('the ${n.name} contract', () => {
  it('sends a valid create on ${n.subjects.itemCreate} and accepts an item back', async () => {
    const { rpc, sent } = stubRpc(item);
    await expect(new ${n.pascal}Client(rpc).createItem({ name: 'an item' }, context)).resolves.toEqual(item);
    expect(sent).toEqual([{ subject: ${P}_SUBJECTS.itemCreate, data: { name: 'an item' } }]);
  });

  it.each<[string, object]>([
    ['an empty name', { name: '' }],
    ['no name', {}],
    ['a field the contract does not describe', { name: 'x', colour: 'red' }],
    ['a name that is not text', { name: 42 }],
  ])('refuses a create with %s before it reaches the bus (INVALID_VALUE)', async (_case, request) => {
    const { rpc, sent } = stubRpc(item);
    const error = await rejectionOf(new ${n.pascal}Client(rpc).createItem(request as { name: string }, context));
    expect(error.code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('refuses an item ID that is not a UUID before it reaches the bus', async () => {
    const { rpc, sent } = stubRpc(item);
    expect((await rejectionOf(new ${n.pascal}Client(rpc).getItem({ itemId: '1' }, context))).code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('answers REC_SERVER_ERROR when the service replies with something that is not an item', async () => {
    for (const reply of [null, {}, { ...item, version: '1' }, { ...item, name: undefined }]) {
      const { rpc } = stubRpc(reply);
      expect((await rejectionOf(new ${n.pascal}Client(rpc).getItem({ itemId: item.id }, context))).code).toBe(
        'REC_SERVER_ERROR',
      );
    }
  });

  it('registers ${n.notFoundCode} as a 404 problem in its own code system', () => {
    expect(errorDefinition('${n.notFoundCode}')).toMatchObject({ status: 404, system: ${P}_CODE_SYSTEM });
  });
});

describe('Fake${n.pascal}Client', () => {
  it('answers a retried create with the first item, and ${n.notFoundCode} for an unknown one', async () => {
    const fake = new Fake${n.pascal}Client();
    const first = await fake.createItem({ name: 'x' }, context);
    await expect(fake.createItem({ name: 'x' }, context)).resolves.toEqual(first);
    await expect(fake.getItem({ itemId: first.id })).resolves.toEqual(first);
    expect((await rejectionOf(fake.getItem({ itemId: item.id }))).code).toBe('${n.notFoundCode}');
    expect((await rejectionOf(fake.createItem({ name: '' }, { requestId: 'r-2' }))).code).toBe('INVALID_VALUE');
  });
});
`;
}

function messagingDocSpec(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { documentedSubjects } from '@platform/shared-testing';
import { ${P}_EVENTS, ${P}_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject ${n.name} serves and every event it publishes, and no other ${n.subjectPrefix}.* subject', () => {
    const constants = [...Object.values(${P}_SUBJECTS), ...Object.values(${P}_EVENTS)].sort();
    expect(documentedSubjects('${n.subjectPrefix}')).toEqual(constants);
  });
});
`;
}
