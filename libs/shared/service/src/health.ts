import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Optional,
  Param,
  Res,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { PlatformError } from '@platform/shared-errors';

/** Something a process needs before it can take traffic (its database, NATS, the services it calls). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * false: a failure is reported and the process says it is `degraded`, but it stays ready (the gateway
   * keeps serving the routes of the services that answer while one is down). Default true.
   */
  critical?: boolean;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const LIVENESS = Symbol('LIVENESS');

/** How long a readiness check may take before it counts as down. */
const READINESS_BOUND_MS = 2000;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function withTimeout(check: () => Promise<void>, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms);
      }),
    ]);
    return undefined;
  } catch (error) {
    if (!(error instanceof Error)) return 'failed';
    const diagnostics = (error as { diagnostics?: unknown }).diagnostics;
    return typeof diagnostics === 'string' ? `${error.message} (${diagnostics})` : error.message;
  } finally {
    clearTimeout(timer);
  }
}

type Pool = { connect(): Promise<{ query(sql: string): Promise<unknown>; release(error?: Error | boolean): void }> };

/** True for the errors of a wait that got no answer (our bound, the pool's acquire timeout, a connect timeout). */
function isTimeout(error: unknown): boolean {
  return /time(d)? ?out/i.test(error instanceof Error ? error.message : String(error));
}

/**
 * Whether a connection can be had from a pool and answers `SELECT 1`, within a bound. One check at a time:
 * callers arriving while one runs share its result, so probes never pile up in the queue of a wedged pool.
 * A connection that arrives after the bound is handed straight back.
 */
export class DatabaseProbe {
  private running: Promise<void> | undefined;
  /** When the pool last gave an answer: a connection, or a definite refusal (not a wait that timed out). */
  lastAnswerAt = Date.now();

  constructor(
    private readonly pool: Pool,
    private readonly boundMs: number,
  ) {}

  check(): Promise<void> {
    this.running ??= this.probe().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async probe(): Promise<void> {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const attempt = (async () => {
      const client = await this.pool.connect();
      if (timedOut) {
        client.release();
        return;
      }
      try {
        await client.query('SELECT 1');
      } finally {
        client.release();
      }
    })();
    try {
      await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`no database connection within ${this.boundMs} ms`));
          }, this.boundMs);
        }),
      ]);
      this.lastAnswerAt = Date.now();
    } catch (error) {
      if (!timedOut && !isTimeout(error)) this.lastAnswerAt = Date.now();
      attempt.catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface LivenessSettings {
  /** Event-loop delay (max over each second) above which the loop counts as stalled. */
  maxLagMs: number;
  /** How long the loop may stay stalled before liveness fails (one blip never does). */
  lagGraceMs: number;
  /** The database, when the process has one: liveness fails when its pool has not answered for dbGraceMs. */
  database?: Pool;
  /** How long one liveness probe of the pool may wait for a connection (generous: this is not readiness). */
  dbBoundMs: number;
  dbEveryMs: number;
  dbGraceMs: number;
}

export const DEFAULT_LIVENESS: LivenessSettings = {
  maxLagMs: 2000,
  lagGraceMs: 30_000,
  dbBoundMs: 10_000,
  dbEveryMs: 5000,
  dbGraceMs: 60_000,
};

/**
 * Whether the process is still doing work, for the liveness probe (a failing liveness probe restarts the
 * container). Two signs of a hung process, each only after it has lasted a while: an event loop that stays
 * stalled (perf_hooks' event-loop delay), and a database pool that gives no connection at all, neither a
 * connection nor a refusal (a pool whose connections were all taken and never returned). A database that
 * is down refuses at once: that is readiness's business, and restarting would not help.
 */
export class Liveness implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly settings: LivenessSettings;
  private histogram: IntervalHistogram | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly probe: DatabaseProbe | undefined;
  private stalledSince: number | undefined;
  private lastLagMs = 0;
  private lastDbProblem: string | undefined;

  constructor(settings: Partial<LivenessSettings> = {}) {
    this.settings = { ...DEFAULT_LIVENESS, ...settings };
    this.probe = this.settings.database
      ? new DatabaseProbe(this.settings.database, this.settings.dbBoundMs)
      : undefined;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  start(): void {
    if (this.histogram) return;
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timers.push(setInterval(() => this.sampleLag(), 1000));
    if (this.probe) {
      const probe = this.probe;
      probe.lastAnswerAt = Date.now();
      this.timers.push(
        setInterval(() => {
          probe.check().then(
            () => (this.lastDbProblem = undefined),
            (error: unknown) => (this.lastDbProblem = error instanceof Error ? error.message : String(error)),
          );
        }, this.settings.dbEveryMs),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** Called every second (and usable by tests with a measured lag). */
  sampleLag(lagMs = this.histogram ? this.histogram.max / 1e6 : 0, now = Date.now()): void {
    this.histogram?.reset();
    this.lastLagMs = lagMs;
    if (lagMs > this.settings.maxLagMs) this.stalledSince ??= now;
    else this.stalledSince = undefined;
  }

  /** The problems that make the process not alive; empty when it is. */
  problems(now = Date.now()): string[] {
    const problems: string[] = [];
    if (this.stalledSince !== undefined && now - this.stalledSince >= this.settings.lagGraceMs) {
      problems.push(
        `event loop stalled (delay ${Math.round(this.lastLagMs)} ms) for ${Math.round((now - this.stalledSince) / 1000)} s`,
      );
    }
    if (this.probe && now - this.probe.lastAnswerAt >= this.settings.dbGraceMs) {
      problems.push(
        `database pool has not answered for ${Math.round((now - this.probe.lastAnswerAt) / 1000)} s${
          this.lastDbProblem ? ` (${this.lastDbProblem})` : ''
        }`,
      );
    }
    return problems;
  }

  get eventLoopLagMs(): number {
    return Math.round(this.lastLagMs);
  }
}

interface Reply {
  status(code: number): unknown;
}

type ReadyBody = { status: 'ok' | 'degraded' | 'unavailable'; checks: Record<string, string> };

@ApiExcludeController()
@Controller()
export class HealthController {
  private readonly gauge: Gauge;

  constructor(
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Optional() @Inject(LIVENESS) private readonly liveness?: Liveness,
  ) {
    this.checks ??= [];
    this.gauge =
      (registry.getSingleMetric('health_check_up') as Gauge | undefined) ??
      new Gauge({
        name: 'health_check_up',
        help: 'Result of each readiness check at the last /health/ready (1 up, 0 down): the database, NATS and, for the gateway, each service it routes to',
        labelNames: ['check'],
        registers: [registry],
      });
  }

  /** 200 while the process works; 503 once its event loop or its database pool has been stuck for a while. */
  @Get('health/live')
  live(@Res({ passthrough: true }) reply: Reply): { status: string; eventLoopLagMs?: number; problems?: string[] } {
    if (!this.liveness) return { status: 'ok' };
    const problems = this.liveness.problems();
    if (problems.length > 0) {
      reply.status(503);
      return { status: 'failing', eventLoopLagMs: this.liveness.eventLoopLagMs, problems };
    }
    return { status: 'ok', eventLoopLagMs: this.liveness.eventLoopLagMs };
  }

  /**
   * 200 `ok` when every check passes; 200 `degraded` when only non-critical checks fail (the gateway with
   * one service down); 503 `unavailable` when a critical one fails. The body names the state of each check.
   */
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) reply: Reply): Promise<ReadyBody> {
    const results = await Promise.all(
      this.checks.map(async (check) => ({
        check,
        problem: await withTimeout(() => check.check(), READINESS_BOUND_MS),
      })),
    );
    for (const { check, problem } of results) this.gauge.set({ check: check.name }, problem ? 0 : 1);
    const checks = Object.fromEntries(
      results.map(({ check, problem }) => [check.name, problem ? `down: ${problem}` : 'up']),
    );
    const failed = results.filter(({ problem }) => problem !== undefined);
    const status = failed.some(({ check }) => check.critical !== false)
      ? 'unavailable'
      : failed.length > 0
        ? 'degraded'
        : 'ok';
    reply.status(status === 'unavailable' ? 503 : 200);
    return { status, checks };
  }

  /** One check alone: 200 when it is up, 503 when not (for a monitor that watches one service through the gateway). */
  @Get('health/ready/:check')
  async readyOne(
    @Param('check') name: string,
    @Res({ passthrough: true }) reply: Reply,
  ): Promise<{ check: string; status: string }> {
    const check = this.checks.find((candidate) => candidate.name === name);
    if (!check) throw new NotFoundException(`no readiness check named ${name}`);
    const problem = await withTimeout(() => check.check(), READINESS_BOUND_MS);
    this.gauge.set({ check: check.name }, problem ? 0 : 1);
    reply.status(problem ? 503 : 200);
    return { check: check.name, status: problem ? `down: ${problem}` : 'up' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** What a NATS service with a database wires for its health: readiness checks, liveness, and its health subject. */
export interface ServiceHealth {
  /** Serves the service's `<service>.health.check.v1` subject: ok only while its database gives a connection. */
  handler: Type<unknown>;
  providers: Provider[];
}

/**
 * The health of a NATS service with a database.
 * - Its health subject answers `{status: 'ok', service}` only while a database connection can be had
 *   (REC_UNAVAILABLE otherwise), so what callers see over NATS (the gateway's readiness) matches the service;
 *   and REC_UNAVAILABLE from the moment the app starts to stop, before its subscriptions drain.
 * - Readiness (both critical): `postgres` (a connection within 2 s, SELECT 1) and `nats` (a round trip
 *   through the service's own health subject: any reply, even "my database is down", proves the subscription works).
 * - Liveness: the event loop and the pool (see Liveness).
 */
export function serviceHealth(settings: {
  service: string;
  subject: string;
  pool: Pool;
  /** A request to the service's own health subject through NATS. */
  self: (context: { requestId: string }) => Promise<unknown>;
  liveness?: Partial<LivenessSettings>;
}): ServiceHealth {
  const database = new DatabaseProbe(settings.pool, READINESS_BOUND_MS - 200);
  const checks: ReadinessCheck[] = [
    { name: 'postgres', check: () => database.check() },
    {
      name: 'nats',
      check: async () => {
        try {
          await settings.self({ requestId: 'readiness-probe' });
        } catch (error) {
          // The service answered, to say its database is down: NATS itself works (postgres reports the rest).
          if (error instanceof PlatformError && error.details?.['failing'] === 'postgres') return;
          throw error;
        }
      },
    },
  ];

  @Controller()
  class ServiceHealthHandler implements BeforeApplicationShutdown {
    private stopping = false;

    /**
     * The first of the app's shutdown hooks to take effect: Nest calls a module's hooks together, in
     * order, controllers first, so this flag is set before any subscription of the same module starts to
     * drain (pds's direct read subscription), and the health subject says "stopping" while they drain.
     */
    beforeApplicationShutdown(): void {
      this.stopping = true;
    }

    @MessagePattern(settings.subject)
    async health(): Promise<{ status: 'ok'; service: string }> {
      if (this.stopping) {
        throw new PlatformError('REC_UNAVAILABLE', `${settings.service} is stopping`, {
          headers: { 'Retry-After': '5' },
          details: { failing: 'stopping' },
        });
      }
      try {
        await database.check();
      } catch (error) {
        throw new PlatformError('REC_UNAVAILABLE', `${settings.service} cannot get a database connection`, {
          diagnostics: error instanceof Error ? error.message : String(error),
          headers: { 'Retry-After': '5' },
          details: { failing: 'postgres' },
        });
      }
      return { status: 'ok', service: settings.service };
    }
  }

  return {
    handler: ServiceHealthHandler,
    providers: [
      { provide: READINESS_CHECKS, useValue: checks },
      { provide: LIVENESS, useValue: new Liveness({ ...settings.liveness, database: settings.pool }) },
    ],
  };
}
