import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';

import { PinoNestLogger, runWithRequestContext, type Logger } from '@platform/shared-logging';
import { callerTrust, connectNats, GATEWAY_ISSUER } from '@platform/shared-nats';
import { createMetricsRegistry } from '@platform/shared-service';
import type { GatewayConfig } from './config/gateway.config';
import { PlatformError } from '@platform/shared-errors';
import { CallerGate } from './auth/caller-gate';
import { policyOf, type RoutePolicy } from './auth/route-policy';
import { TokenVerifier } from './auth/token-verifier';
import { ERS_ATTACHMENT_MEDIA_TYPES } from '@platform/contracts-ers';
import { parseFormBody } from './e-referrals/patient-form';
import { GatewayModule } from './gateway.module';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { openApiDocument } from './openapi';
import {
  bodyKindOf,
  bodyLimitOf,
  checkBodyHeaders,
  checkHeaders,
  checkRequestTarget,
  CSV_MEDIA_TYPE,
  csvBodyStream,
  FORM_MEDIA_TYPE,
  JSON_MEDIA_TYPES,
  MHS_MEDIA_TYPE,
  parseJsonBody,
  type EdgeLimits,
} from './http/edge-checks';
import { clientErrorHandler, sendError, toPlatformError } from './http/error-response';
import { GatewayErrorFilter } from './http/error.filter';
import { startMetricsListener } from './http/metrics-listener';

const ECHOED_HEADERS = ['x-request-id', 'x-correlation-id'] as const;

function firstHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Swagger UI and the document: registered by SwaggerModule, not by a controller, and public. */
function isDocsRoute(url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/');
}

function notFound(): PlatformError {
  return new PlatformError('REC_NOT_FOUND', 'Not found', { diagnostics: 'No such resource or operation' });
}

/**
 * Builds the HTTP edge: Fastify, the caller gate (authentication and authorisation in onRequest, before any
 * body is read), per-route body limits, error mapping, metrics, access log and OpenAPI at /docs.
 */
export async function createGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  if (!config.GATEWAY_ERS_LINK_SECRET) {
    logger.warn('GATEWAY_ERS_LINK_SECRET is not set: e-RS A042 content locations work only on this process');
  }
  const { signer } = await callerTrust({
    issuer: GATEWAY_ISSUER,
    trustedKeys: config.CALLER_TRUSTED_KEYS,
    signingKey: config.CALLER_SIGNING_KEY,
    signingKeyId: config.CALLER_SIGNING_KEY_ID,
  });
  // Services act only on a statement the gateway signed: without its key it can forward nothing.
  if (!signer) throw new Error('CALLER_SIGNING_KEY must be set: the gateway signs who is calling for every service');
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
    // request.ip is the client's address only through proxies the operator declares (the ingress: 1 hop).
    trustProxy: config.GATEWAY_TRUSTED_PROXY_HOPS > 0 ? config.GATEWAY_TRUSTED_PROXY_HOPS : false,
    return503OnClosing: true,
    // Fastify's own refusals (bad URL encoding, a path parameter over the limit, requests Node's parser
    // rejects) in the platform's formats rather than Fastify's default JSON.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendError(request, reply, toPlatformError(error, logger)),
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.with({ config, nats, metrics, signer }),
    adapter,
    {
      logger: new PinoNestLogger(logger),
      // The gateway's own parsers below read every body; Nest's would parse JSON before it is checked.
      bodyParser: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();

  const gate = new CallerGate(app.get(TokenVerifier), app.get<GatewaySettings>(GATEWAY_SETTINGS));
  const routeMax = (policy: RoutePolicy | undefined): number | undefined => policy?.maxBodyBytes;

  // Each route's own body limit, which Fastify applies while the body streams in (chunked bodies too).
  fastify.addHook('onRoute', (route) => {
    const policy = policyOf(route.config);
    const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
    if (policy) route.bodyLimit = bodyLimitOf(bodyKindOf(method, route.url), limits, routeMax(policy));
  });

  // Bodies are read as bytes and checked before anything parses them into objects or classes (edge-checks),
  // and only once the onRequest hooks below have admitted the caller.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, limits.maxJsonDepth));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // The e-RS patient page's HTML forms (only its routes take them: edge-checks bodyKindOf).
  fastify.addContentTypeParser(FORM_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseFormBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // e-RS A020 uploads: the file's own type, read as a stream by its route (ers-attachments.controller.ts).
  fastify.addContentTypeParser([...ERS_ATTACHMENT_MEDIA_TYPES], (_request, payload, done) => done(null, payload));
  // GP2GP legacy practices' MHS messages: a stream, passed on to gp2gp in pieces by its route (mhs-inbound).
  fastify.addContentTypeParser(MHS_MEDIA_TYPE, (_request, payload, done) => done(null, payload));
  // ODS extracts for the N3 registry: a checked stream with their own (larger) limit, never held whole;
  // only the import route takes them.
  fastify.addContentTypeParser(CSV_MEDIA_TYPE, (request, payload, done) => {
    done(null, csvBodyStream(payload, request.routeOptions.bodyLimit ?? limits.csvBodyBytes));
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    // The request target and the headers in use, before anything else reads them.
    try {
      checkRequestTarget(request.url, limits.maxUrlBytes);
      checkHeaders(request.headers);
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
  // Who is calling and whether they may, from the headers alone: an anonymous, forbidden or throttled request
  // is refused here, its body unread (the refusal closes the connection: error-response sendError).
  fastify.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route === undefined) throw notFound();
    const policy = policyOf(request.routeOptions.config);
    if (!policy) {
      if (isDocsRoute(route)) return;
      // A route without a policy is a mistake in the code: refused, never open.
      throw new PlatformError('REC_SERVER_ERROR', 'Route has no access policy');
    }
    if (route === '/metrics' && config.GATEWAY_METRICS_PORT > 0) throw notFound();
    await gate.admit(request, policy);
    // Then the body the route takes: media type, coding, charset, and a declared length within its limit.
    checkBodyHeaders(request.headers, bodyKindOf(request.method, route), limits, routeMax(policy));
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

  // /metrics on the pod's own port (GATEWAY_METRICS_PORT), apart from the API the ingress routes to.
  const metricsListener =
    config.GATEWAY_METRICS_PORT > 0
      ? await startMetricsListener(metrics, config.GATEWAY_METRICS_PORT, config.GATEWAY_HOST)
      : undefined;

  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const closeNats = async (): Promise<void> => {
    await metricsListener?.close();
    await nats.drain().catch(() => undefined);
  };
  fastify.addHook('onClose', (_instance, done) => {
    closeNats().then(() => done(), done);
  });
  return app;
}
