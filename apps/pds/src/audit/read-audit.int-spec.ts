import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { createLogger } from '@platform/shared-logging';
import { loadConfig } from '@platform/shared-config';
import { testCallerEnvironment } from '@platform/testing-services';
import { PdsConfig } from '../config/pds.config';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { startPds } from '../pds';
import { gpClinician, startPdsUnderTest, type PdsUnderTest } from '../pds.test-harness';
import { MAX_IN_FLIGHT, readAuditEntry, ReadAuditRepository } from './read-audit.repository';

describe('read audit writer: connections of its own', () => {
  let under: PdsUnderTest;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_audit_conn', seed: 'sandbox' });
    // Each audit statement notes the session that ran it.
    await under.db.query(`
      CREATE TABLE "${under.schema}".audit_session (request_id text, pid int, application_name text);
      CREATE FUNCTION "${under.schema}".note_audit_session() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "${under.schema}".audit_session
          VALUES (NEW.request_id, pg_backend_pid(), current_setting('application_name'));
        RETURN NEW;
      END $$;
      CREATE TRIGGER note_audit_session AFTER INSERT ON "${under.schema}".read_audit
        FOR EACH ROW EXECUTE FUNCTION "${under.schema}".note_audit_session();`);
  });

  afterAll(async () => {
    await under?.stop();
  });

  const sessionsOf = async (requestIds: string[]): Promise<{ pid: number; application_name: string }[]> =>
    (
      await under.db.query<{ pid: number; application_name: string }>(
        `SELECT DISTINCT pid, application_name FROM "${under.schema}".audit_session WHERE request_id = ANY ($1)`,
        [requestIds],
      )
    ).rows;

  it("answers and audits reads while every connection of the service's shared pool is taken", async () => {
    const pool = under.app.get<symbol, PdsDatabase>(PDS_DATABASE).pool;
    const held: PoolClient[] = await Promise.all(Array.from({ length: pool.options.max }, () => pool.connect()));
    const requestIds = Array.from({ length: 20 }, () => randomUUID());
    try {
      // Every connection of the shared pool is held here (a background task of the service may be waiting
      // for one too), so a read can only be audited on the writer's own.
      expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: pool.options.max, idle: 0 });
      const replies = await Promise.all(
        requestIds.map((requestId) => under.pds.getPatient({ nhsNumber: '9000000009' }, gpClinician(requestId))),
      );
      expect(replies.map((reply) => reply.patient.id)).toEqual(requestIds.map(() => '9000000009'));
    } finally {
      for (const client of held) client.release();
    }
    const rows = await under.db.query<{ request_id: string; action: string }>(
      `SELECT request_id, action FROM "${under.schema}".read_audit WHERE request_id = ANY ($1)`,
      [requestIds],
    );
    expect(rows.rows.map((row) => row.request_id).sort()).toEqual([...requestIds].sort());
    expect(new Set(rows.rows.map((row) => row.action))).toEqual(new Set(['patient.read']));
    // Written on the writer's own sessions, never more of them than statements in flight.
    const sessions = await sessionsOf(requestIds);
    expect(sessions.length).toBeGreaterThanOrEqual(1);
    expect(sessions.length).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(new Set(sessions.map((session) => session.application_name))).toEqual(new Set(['pds read audit']));
  });

  it('closes its connections when the service shuts down, after committing what was recorded', async () => {
    const second = await startPds(
      loadConfig(PdsConfig, {
        ...(await testCallerEnvironment('pds')),
        NATS_URL: under.natsUrl,
        DATABASE_URL: under.databaseUrl,
        PDS_DB_SCHEMA: under.schema,
        PDS_HTTP_PORT: '0',
      }),
      createLogger({ service: 'pds', level: 'silent' }),
    );
    const requestIds = Array.from({ length: 30 }, () => randomUUID());
    const audit = second.get(ReadAuditRepository);
    // Recorded, not awaited: the shutdown must wait for them.
    const recorded = requestIds.map((requestId) =>
      audit.record(readAuditEntry('9000000009', 'patient.read', gpClinician(requestId))),
    );
    await second.close();
    await Promise.all(recorded);
    const written = await under.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${under.schema}".read_audit WHERE request_id = ANY ($1)`,
      [requestIds],
    );
    expect(written.rows[0]?.n).toBe(requestIds.length);
    const pids = (await sessionsOf(requestIds)).map((session) => session.pid);
    expect(pids.length).toBeGreaterThanOrEqual(1);
    // Ending a pool closes its sockets; PostgreSQL's backends go a moment later.
    let open = Infinity;
    for (let waited = 0; open > 0 && waited < 5000; waited += 50) {
      open = (
        await under.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY ($1)', [
          pids,
        ])
      ).rows[0].n;
      if (open > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(open).toBe(0);
  });
});
