import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoNestLogger, type Logger } from '@platform/shared-logging';
import {
  CallerGuard,
  coalesceWrites,
  natsEndpointOptions,
  RpcErrorFilter,
  rpcValidationPipe,
  type CallerAssertionVerifier,
  type SubjectPolicies,
} from '@platform/shared-nats';
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
  /**
   * Who may call: the verifier of the signed caller statements and the roles each subject accepts. Every
   * message is checked before its handler runs; a subject without a policy is refused.
   */
  callers: { verifier: CallerAssertionVerifier; policies: SubjectPolicies };
}

/**
 * Starts a national-application service: NATS request/reply handlers in the service's queue group, plus
 * a small HTTP listener for /health/live, /health/ready and /metrics. Run it under runProcess, whose
 * SIGTERM and SIGINT close the app: the NATS subscriptions drain (in-flight requests finish) before the
 * process exits.
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
        // Servers, the process's own credentials and inbox, TLS (NATS_URL, NATS_TLS_*): as connectNats.
        ...natsEndpointOptions(settings.natsUrl),
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
  microservice.useGlobalGuards(new CallerGuard(settings.callers.verifier, settings.callers.policies, logger));
  microservice.useGlobalPipes(rpcValidationPipe());
  await app.startAllMicroservices();
  // Replies written once per turn of the event loop (see coalesceWrites).
  coalesceWrites(microservice.unwrap<NatsConnection>());
  await app.listen(settings.httpPort, settings.httpHost);
  logger.info({ httpPort: settings.httpPort, queue: settings.name }, 'service started');
  return app;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** What runProcess stops on SIGTERM or SIGINT. */
export interface Closable {
  close(): Promise<void>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The life of a service process, for its main.ts: start, serve, stop, never a raw stack trace.
 * - A SIGTERM or SIGINT during start-up (migrations, seeding, connecting) ends the process at once with
 *   one log line and exit code 0: nothing has been acknowledged yet, and the database rolls back whatever
 *   the start-up had begun.
 * - After start-up the first signal closes the app (Nest's shutdown hooks: NATS subscriptions drain, the
 *   outbox relays its last pass, the database closes), logs "stopped" and exits 0; a close that fails or
 *   takes longer than `closeTimeoutMs` is logged in one line and exits 1. A second signal exits at once.
 * - A start-up failure is logged as one fatal line and exits 1; so is an error nothing caught (one JSON
 *   line, then exit 1, so that a supervisor restarts a clean process). While stopping, such errors (a
 *   connection dying under a closing pool) are logged as a warning without a stack.
 */
export async function runProcess(
  name: string,
  logger: Logger,
  start: () => Promise<Closable>,
  closeTimeoutMs = 15_000,
): Promise<void> {
  let stopping = false;
  const onUncaught = (error: unknown): void => {
    if (stopping) {
      logger.warn({ error: messageOf(error) }, `${name}: error while stopping`);
      return;
    }
    logger.fatal({ err: error }, `${name}: uncaught error; exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);

  const duringStartup = (signal: NodeJS.Signals): void => {
    stopping = true;
    logger.info({ signal }, `${name} stopped during start-up`);
    process.exit(0);
  };
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  for (const signal of SIGNALS) process.on(signal, duringStartup);

  let app: Closable;
  try {
    app = await start();
  } catch (error) {
    // A Ctrl-C in a terminal reaches every process of the group at once: NATS or PostgreSQL stopping can
    // fail the start-up a moment before this process's own signal arrives. Give that signal a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (stopping) return;
    logger.fatal({ err: error }, `${name} failed to start`);
    process.exit(1);
  }

  // From here this function owns the signals: listeners the start-up added (Nest's enableShutdownHooks)
  // would close the app a second time.
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, `${name}: second signal; exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    const forced = setTimeout(() => {
      logger.warn({ closeTimeoutMs }, `${name} did not stop in time; exiting`);
      process.exit(1);
    }, closeTimeoutMs);
    forced.unref();
    app.close().then(
      () => {
        logger.info(`${name} stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.warn({ error: messageOf(error) }, `${name} stopped with an error`);
        process.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, stop);
}
