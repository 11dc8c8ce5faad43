import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoNestLogger, type Logger } from '@platform/shared-logging';
import { coalesceWrites, RpcErrorFilter, rpcValidationPipe } from '@platform/shared-nats';
import type { NatsConnection } from 'nats';

export interface ServiceSettings {
  /** Project name; also the NATS queue group, so replicas share the work. */
  name: string;
  module: Type<unknown> | DynamicModule;
  natsUrl: string;
  /** Port of the health and metrics endpoints. */
  httpPort: number;
  httpHost: string;
  logger: Logger;
}

/**
 * Starts a national-application service: NATS request/reply handlers in the service's queue group, plus
 * a small HTTP listener for /health/live, /health/ready and /metrics. SIGTERM and SIGINT drain the NATS
 * subscriptions (in-flight requests finish) before the process exits.
 */
export async function bootstrapService(settings: ServiceSettings): Promise<INestApplication> {
  const { logger } = settings;
  const app = await NestFactory.create<NestFastifyApplication>(settings.module, new FastifyAdapter(), {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  const microservice = app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.NATS,
      options: {
        servers: settings.natsUrl.split(','),
        queue: settings.name,
        name: `${settings.name}-${process.pid}`,
        gracefulShutdown: true,
        gracePeriod: 2000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // No stack capture for every request's internal promises: a measurable share of CPU per message.
        noAsyncTraces: true,
      },
    },
    { inheritAppConfig: false, deferInitialization: true },
  );
  microservice.useGlobalFilters(new RpcErrorFilter(logger));
  microservice.useGlobalPipes(rpcValidationPipe());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.startAllMicroservices();
  // Replies written once per turn of the event loop (see coalesceWrites).
  coalesceWrites(microservice.unwrap<NatsConnection>());
  await app.listen(settings.httpPort, settings.httpHost);
  logger.info({ httpPort: settings.httpPort, queue: settings.name }, 'service started');
  return app;
}
