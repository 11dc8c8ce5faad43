import { Controller, Get, Header, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Something a process needs before it can take traffic (its database, NATS, the services it calls). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms);
      }),
    ]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  } finally {
    clearTimeout(timer);
  }
}

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health/live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** 200 when every check passes, else 503 with the state of each check. */
  @Get('health/ready')
  async ready(
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const results = await Promise.all(
      this.checks.map(async (check) => [check.name, await withTimeout(check, 2000)] as const),
    );
    const checks = Object.fromEntries(results.map(([name, problem]) => [name, problem ? `down: ${problem}` : 'up']));
    const ready = results.every(([, problem]) => problem === undefined);
    reply.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', checks };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The readiness of a NATS service with a database: PostgreSQL answers, and a round trip through the
 * service's own subscription works (not just a ping of the connection).
 */
export function serviceReadiness(
  pool: { query(sql: string): Promise<unknown> },
  health: (context: { requestId: string }) => Promise<unknown>,
): ReadinessCheck[] {
  return [
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    { name: 'nats', check: async () => void (await health({ requestId: 'readiness-probe' })) },
  ];
}
