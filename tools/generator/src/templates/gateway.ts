import type { ServiceNames } from '../names';

/** The gateway's route module for the service: a JSON API under `/<name>` (problem details on errors). */
export function gatewayFiles(n: ServiceNames): Record<string, string> {
  return { [`apps/gateway/src/${n.name}/${n.name}.controller.ts`]: controller(n) };
}

function controller(n: ServiceNames): string {
  return `import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ${n.envPrefix}_READERS,
  ${n.envPrefix}_WRITERS,
  type ${n.pascal}Api,
  type CreateItemRequest,
  type Item,
} from '${n.contractsAlias}';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';

export const ${n.constant}_CLIENT = Symbol('${n.constant}_CLIENT');

/** A JSON object body, or 400 saying what was expected. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

@ApiTags('${n.title}, JSON')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('${n.name}')
export class ${n.pascal}Controller {
  constructor(@Inject(${n.constant}_CLIENT) private readonly ${n.camel}: ${n.pascal}Api) {}

  @Post('items')
  @ApiRoute(${n.envPrefix}_WRITERS, { write: true })
  @ApiOperation({ summary: 'Create an item (exactly once per X-Request-ID)', description: 'Roles: ops' })
  @ApiResponse({ status: 201, description: 'The item, with ETag W/"1" and Location' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.${n.camel}.createItem(objectBody(body) as unknown as CreateItemRequest, callContextOf(request));
    void reply.status(201).header('Location', \`/${n.name}/items/\${item.id}\`).header('ETag', \`W/"\${item.version}"\`);
    return item;
  }

  @Get('items/:id')
  @ApiRoute(${n.envPrefix}_READERS)
  @ApiOperation({ summary: 'An item; ETag W/"version"', description: 'Roles: ops' })
  @ApiResponse({ status: 404, description: '${n.notFoundCode}' })
  async get(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.${n.camel}.getItem({ itemId: id }, callContextOf(request));
    void reply.header('ETag', \`W/"\${item.version}"\`);
    return item;
  }
}
`;
}

/** The section of apps/gateway/README.md listing the routes (tools/lint/docs.spec.ts holds it to the OpenAPI document). */
export function gatewayReadmeSection(n: ServiceNames): string {
  return `### ${n.title}, JSON (\`/${n.name}\`)

| route | roles | what it does (service subject) |
| --- | --- | --- |
| \`POST /${n.name}/items\` | \`ops\` (write) | create an item: 201, \`ETag: W/"1"\`, \`Location\` (\`${n.subjects.itemCreate}\`) |
| \`GET /${n.name}/items/{id}\` | \`ops\` | an item, \`ETag: W/"<version>"\`; 404 \`${n.notFoundCode}\` (\`${n.subjects.itemGet}\`) |

`;
}

/** The service's section of docs/messaging.md: every subject and event whole (its messaging-doc test compares). */
export function messagingSection(n: ServiceNames): string {
  const P = n.envPrefix;
  return `### ${n.title} (\`${n.name}\`, queue group \`${n.name}\`)

Payload classes, the error list and the typed client (\`${n.pascal}Client\`) live in \`${n.contractsDir}\`
([README](../${n.contractsDir}/README.md)). Every request is validated against its class on both sides
(unknown fields refused); writes are exactly once per (caller, X-Request-ID).

| subject | called by | request | reply | error codes (besides \`INVALID_VALUE\`) |
| --- | --- | --- | --- | --- |
| \`${n.subjects.itemCreate}\` | gateway \`POST /${n.name}/items\` | \`CreateItemRequest\` \`{name, description?}\` | \`Item\` \`{id, name, description, version, createdAt}\` | |
| \`${n.subjects.itemGet}\` | gateway \`GET /${n.name}/items/{id}\` | \`GetItemRequest\` \`{itemId}\` (a UUID) | \`Item\` | \`${n.notFoundCode}\` (404) |
| \`${n.subjects.healthCheck}\` | the gateway's and the service's own readiness checks, 1.5 s timeout | \`{}\` | \`{status: "ok", service: "${n.name}"}\` | \`REC_UNAVAILABLE\` (no database connection) |

| stream | subjects | retention | publisher | consumers |
| --- | --- | --- | --- | --- |
| \`${n.stream}\` | \`${n.events.itemCreated}\` (\`ItemCreatedEvent\` \`{itemId, version, occurredAt}\`); headers X-Request-ID, X-Correlation-ID | limits (defaults), file storage, duplicate window 2 min; created or updated by ${n.name} at start | ${n.name}, through its outbox relay (\`Nats-Msg-Id: ${n.name}-outbox-<row id>\`) | none yet |

Constants: \`${P}_SUBJECTS\`, \`${P}_EVENTS\`, \`${P}_EVENT_STREAM\`, \`${P}_QUEUE\`.

`;
}
