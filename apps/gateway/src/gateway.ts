import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';

import { PinoNestLogger, runWithRequestContext, type Logger } from '@platform/shared-logging';
import { connectNats } from '@platform/shared-nats';
import { createMetricsRegistry } from '@platform/shared-service';
import type { GatewayConfig } from './config/gateway.config';
import { GatewayModule } from './gateway.module';
import { openApiDocument } from './openapi';
import {
  bodyKindOf,
  checkBodyHeaders,
  checkCsvBody,
  checkHeaders,
  checkRequestTarget,
  CSV_MEDIA_TYPE,
  JSON_MEDIA_TYPES,
  parseJsonBody,
  type EdgeLimits,
} from './http/edge-checks';
import { clientErrorHandler, sendError, toPlatformError } from './http/error-response';
import { GatewayErrorFilter } from './http/error.filter';

const ECHOED_HEADERS = ['x-request-id', 'x-correlation-id'] as const;

function firstHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Builds the HTTP edge: Fastify, the platform guard, error mapping, metrics, access log and OpenAPI at /docs. */
export async function createGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  const nats = await connectNats({ url: config.NATS_URL, name: `gateway-${process.pid}` });
  const metrics = createMetricsRegistry('gateway');
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route template, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [metrics],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });

  const limits: EdgeLimits = {
    maxUrlBytes: config.GATEWAY_MAX_URL_BYTES,
    maxJsonDepth: config.GATEWAY_JSON_MAX_DEPTH,
    jsonBodyBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    csvBodyBytes: config.GATEWAY_IMPORT_LIMIT_BYTES,
  };
  const adapter = new FastifyAdapter({
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: false,
    return503OnClosing: true,
    // Fastify's own refusals (bad URL encoding, a path parameter over the limit, requests Node's parser
    // rejects) in the platform's formats rather than Fastify's default JSON.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendError(request, reply, toPlatformError(error, logger)),
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.with({ config, nats, metrics }), adapter, {
    logger: new PinoNestLogger(logger),
    // The gateway's own parsers below read every body; Nest's would parse JSON before it is checked.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  // Bodies are read as bytes and checked before anything parses them into objects or classes (edge-checks).
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, limits.maxJsonDepth));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // ODS extracts for the N3 registry: kept as bytes, with their own (larger) limit; only its route takes them.
  fastify.addContentTypeParser(
    CSV_MEDIA_TYPE,
    { parseAs: 'buffer', bodyLimit: config.GATEWAY_IMPORT_LIMIT_BYTES },
    (_request, body, done) => {
      try {
        done(null, checkCsvBody(body as Buffer));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    // The request target, the headers in use and the body the route takes, before anything else reads them.
    try {
      checkRequestTarget(request.url, limits.maxUrlBytes);
      checkHeaders(request.headers);
      const route = request.routeOptions.url;
      if (route !== undefined) checkBodyHeaders(request.headers, bodyKindOf(request.method, route), limits);
    } catch (error) {
      done(error as Error);
      return;
    }
    for (const name of ECHOED_HEADERS) {
      const value = firstHeader(request, name);
      if (value) void reply.header(name, value.slice(0, 200));
    }
    const requestId = firstHeader(request, 'x-request-id')?.slice(0, 200);
    const correlationId = firstHeader(request, 'x-correlation-id')?.slice(0, 200);
    runWithRequestContext({ requestId, correlationId }, done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    requests.inc({ route, method: request.method, status: reply.statusCode });
    duration.observe({ route, method: request.method }, seconds);
    if (config.ACCESS_LOG) {
      logger.info(
        {
          requestId: firstHeader(request, 'x-request-id')?.slice(0, 200),
          correlationId: firstHeader(request, 'x-correlation-id')?.slice(0, 200),
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          client: request.callContext?.caller?.clientId,
        },
        'request',
      );
    }
    done();
  });
  app.useGlobalFilters(new GatewayErrorFilter(logger));

  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const closeNats = async (): Promise<void> => {
    await nats.drain().catch(() => undefined);
  };
  fastify.addHook('onClose', (_instance, done) => {
    closeNats().then(() => done(), done);
  });
  return app;
}
