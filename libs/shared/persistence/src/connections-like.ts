import { Pool, type PoolConfig } from 'pg';

export interface OwnConnections {
  /** Connections at most in the new pool. */
  max: number;
  /** Added after the pool's application_name, so that pg_stat_activity tells these sessions apart. */
  purpose: string;
  /** PostgreSQL settings for these sessions only, as the startup `options` take them: `-c name=value ...`. */
  settings?: string;
}

/**
 * A small pool of its own for work that must not queue behind the service's requests for the shared pool (a
 * group commit, say), connected as `pool` is: same server, user, password, database and session settings
 * (statement and idle-in-transaction timeouts among them), with `own.settings` added to the startup options.
 * Its connections close after 10 s idle and do not keep the process alive; one that PostgreSQL ends while
 * idle is dropped and opened anew by the next statement. The caller ends the pool at shutdown.
 */
export function connectionsLike(pool: Pool, own: OwnConnections): Pool {
  const like = pool.options as PoolConfig;
  // pg-pool stores the password as a non-enumerable property (so that it stays out of logged objects): a
  // spread of the options leaves it behind, and the new connections would then try without it.
  const password = (like as { password?: PoolConfig['password'] }).password;
  const options = [like.options, own.settings].filter((part) => part !== undefined && part.trim() !== '').join(' ');
  const connections = new Pool({
    ...like,
    ...(password === undefined ? {} : { password }),
    ...(options === '' ? {} : { options }),
    max: own.max,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    application_name: [like.application_name, own.purpose].filter(Boolean).join(' '),
  });
  // Unheard, an idle connection's error (PostgreSQL restarted, an administrator's pg_terminate_backend) would
  // end the process; the pool has already dropped that connection.
  connections.on('error', () => undefined);
  return connections;
}
