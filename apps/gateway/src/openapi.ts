import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@platform/shared-config';
import { createMetricsRegistry } from '@platform/shared-service';
import { GatewayConfig } from './config/gateway.config';
import { GatewayModule } from './gateway.module';

/** The gateway's public API as OpenAPI 3, from its controllers' decorators: served at /docs and checked in. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('National applications platform')
      .setDescription(
        'FHIR R4 APIs mirroring the NHS national applications. Send a Keycloak access token as Bearer, an X-Request-ID (UUID) on FHIR routes, and NHSD-End-User-Organisation-ODS when your token allows several organisations.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
}

/** The document as the checked-in file holds it (`docs/openapi.json`): two-space JSON and a final newline. */
export function openApiText(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * Builds the document without a network: the gateway's module over a NATS connection that is never used (no
 * request is made while the document is read from the controllers), default configuration, no listener.
 */
export async function offlineOpenApiDocument(): Promise<OpenAPIObject> {
  // Nothing calls it: a method used by mistake fails loudly as "not a function".
  const unused = {} as NatsConnection;
  const app = await NestFactory.create(
    GatewayModule.with({
      // No statement is signed or checked while the document is read: the keys are not needed.
      config: loadConfig(GatewayConfig, { CALLER_TRUSTED_KEYS: 'not used' }),
      nats: unused,
      metrics: createMetricsRegistry('gateway'),
    }),
    new FastifyAdapter(),
    { logger: false, abortOnError: false },
  );
  try {
    await app.init();
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}
