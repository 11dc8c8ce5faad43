import { Module, NotFoundException, type BeforeApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PlatformError } from '@platform/shared-errors';
import { Registry } from 'prom-client';
import { DatabaseProbe, HealthController, Liveness, serviceHealth, type ReadinessCheck } from './health';

function reply(): { code: number; status(code: number): void } {
  return {
    code: 200,
    status(code: number) {
      this.code = code;
    },
  };
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('DatabaseProbe', () => {
  it('fails within its bound when the pool gives no connection, and hands back a connection that comes late', async () => {
    let hand: (client: { query(): Promise<unknown>; release(): void }) => void = () => undefined;
    const release = jest.fn();
    const pool = { connect: jest.fn(() => new Promise<never>((resolve) => (hand = resolve as never))) };
    const probe = new DatabaseProbe(pool, 50);
    const answeredBefore = probe.lastAnswerAt;
    const started = Date.now();
    await expect(Promise.all([probe.check(), probe.check()])).rejects.toThrow('no database connection within 50 ms');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(pool.connect).toHaveBeenCalledTimes(1);
    expect(probe.lastAnswerAt).toBe(answeredBefore);
    hand({ query: () => Promise.resolve(), release });
    await new Promise((resolve) => setImmediate(resolve));
    expect(release).toHaveBeenCalled();
  });

  it('counts a refusal as an answer (the database is down, the process is not hung) and a connection as up', async () => {
    const refused = new DatabaseProbe({ connect: () => Promise.reject(new Error('connect ECONNREFUSED')) }, 1000);
    refused.lastAnswerAt = 0;
    await expect(refused.check()).rejects.toThrow('ECONNREFUSED');
    expect(refused.lastAnswerAt).toBeGreaterThan(0);

    const release = jest.fn();
    const up = new DatabaseProbe({ connect: () => Promise.resolve({ query: () => Promise.resolve(), release }) }, 1000);
    await expect(up.check()).resolves.toBeUndefined();
    expect(release).toHaveBeenCalledTimes(1);
  });
});

describe('Liveness', () => {
  it('fails only after the event loop has stayed stalled for the grace period; a blip resets it', () => {
    const liveness = new Liveness({ maxLagMs: 1000, lagGraceMs: 10_000 });
    liveness.sampleLag(5000, 0);
    expect(liveness.problems(5000)).toEqual([]);
    liveness.sampleLag(20, 6000);
    liveness.sampleLag(5000, 7000);
    expect(liveness.problems(16_000)).toEqual([]);
    liveness.sampleLag(4000, 17_000);
    expect(liveness.problems(17_000)).toEqual([
      expect.stringMatching(/^event loop stalled \(delay 4000 ms\) for 10 s/),
    ]);
  });

  it('fails when the database pool has given no answer for the grace period', () => {
    const liveness = new Liveness({ database: { connect: never }, dbGraceMs: 60_000 });
    const now = Date.now();
    expect(liveness.problems(now)).toEqual([]);
    expect(liveness.problems(now + 61_000)).toEqual([
      expect.stringMatching(/^database pool has not answered for 6\d s/),
    ]);
  });
});

describe('HealthController', () => {
  const check = (name: string, up: boolean, critical?: boolean): ReadinessCheck => ({
    name,
    critical,
    check: () => (up ? Promise.resolve() : Promise.reject(new Error('REC_UNAVAILABLE'))),
  });

  it('is ready and ok when every check passes', async () => {
    const controller = new HealthController([check('nats', true), check('pds', true, false)], new Registry());
    const r = reply();
    expect(await controller.ready(r)).toEqual({ status: 'ok', checks: { nats: 'up', pds: 'up' } });
    expect(r.code).toBe(200);
  });

  it('stays ready but degraded when only a non-critical check fails, and names it', async () => {
    const registry = new Registry();
    const controller = new HealthController([check('nats', true), check('pds', false, false)], registry);
    const r = reply();
    expect(await controller.ready(r)).toEqual({
      status: 'degraded',
      checks: { nats: 'up', pds: 'down: REC_UNAVAILABLE' },
    });
    expect(r.code).toBe(200);
    expect(await registry.metrics()).toMatch(/health_check_up\{check="pds"\} 0/);
  });

  it('is not ready when a critical check fails, or does not answer within its bound', async () => {
    const controller = new HealthController(
      [{ name: 'postgres', check: never }, check('pds', true, false)],
      new Registry(),
    );
    const r = reply();
    expect(await controller.ready(r)).toEqual({
      status: 'unavailable',
      checks: { postgres: 'down: timed out', pds: 'up' },
    });
    expect(r.code).toBe(503);
  });

  it('answers one check alone: 200 up, 503 down, 404 unknown', async () => {
    const controller = new HealthController([check('pds', true, false), check('eps', false, false)], new Registry());
    const up = reply();
    expect(await controller.readyOne('pds', up)).toEqual({ check: 'pds', status: 'up' });
    expect(up.code).toBe(200);
    const down = reply();
    await controller.readyOne('eps', down);
    expect(down.code).toBe(503);
    await expect(controller.readyOne('gp2gp', reply())).rejects.toBeInstanceOf(NotFoundException);
  });

  it('says live while liveness has no problem, 503 with the problems when it has', () => {
    const liveness = new Liveness({ maxLagMs: 10, lagGraceMs: 0 });
    const controller = new HealthController([], new Registry(), liveness);
    const ok = reply();
    expect(controller.live(ok)).toMatchObject({ status: 'ok' });
    liveness.sampleLag(500);
    const failing = reply();
    expect(controller.live(failing)).toMatchObject({ status: 'failing', problems: [expect.any(String)] });
    expect(failing.code).toBe(503);
  });
});

describe('serviceHealth', () => {
  it('says the service is unavailable from the moment it starts to stop, before a sibling subscription has drained', async () => {
    const pool = { connect: () => Promise.resolve({ query: () => Promise.resolve(), release: () => undefined }) };
    const health = serviceHealth({
      service: 'probe',
      subject: 'probe.health.check.v1',
      pool: pool as never,
      self: () => Promise.resolve(),
    });
    let answerDuringDrain: Promise<unknown> | undefined;
    let finishDrain: () => void = () => undefined;
    // Stands for pds's direct read subscription: draining takes a while, in the same module as the handler.
    class DrainingSubscription implements BeforeApplicationShutdown {
      handler?: { health(): Promise<unknown> };
      beforeApplicationShutdown(): Promise<void> {
        answerDuringDrain = this.handler?.health().catch((error: unknown) => error);
        return new Promise((resolve) => (finishDrain = resolve));
      }
    }
    const subscription = new DrainingSubscription();
    @Module({
      controllers: [health.handler],
      providers: [...health.providers, { provide: DrainingSubscription, useValue: subscription }],
    })
    class ProbeModule {}

    const app = await (await Test.createTestingModule({ imports: [ProbeModule] }).compile()).init();
    const handler = app.get<unknown, { health(): Promise<unknown> }>(health.handler);
    subscription.handler = handler;
    await expect(handler.health()).resolves.toEqual({ status: 'ok', service: 'probe' });

    const closed = app.close();
    await new Promise((resolve) => setImmediate(resolve));
    const answer = await answerDuringDrain;
    expect(answer).toBeInstanceOf(PlatformError);
    expect(answer).toMatchObject({ code: 'REC_UNAVAILABLE', details: { failing: 'stopping' } });
    finishDrain();
    await closed;
  });
});
