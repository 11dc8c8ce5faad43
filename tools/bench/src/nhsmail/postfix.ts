import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Cleanup } from '../support/cleanup';
import { exited, portInUse, signal, stopChild, waitGone } from '../support/children';

/** The Debian postfix package's programs this benchmark runs. */
export const POSTFIX_PROGRAMS = {
  postfix: '/usr/sbin/postfix',
  postconf: '/usr/sbin/postconf',
  smtpSource: '/usr/sbin/smtp-source',
  smtpSink: '/usr/sbin/smtp-sink',
} as const;

const INSTALL_HINT =
  "install Debian's postfix package (it brings smtp-source and smtp-sink): `sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postfix`";

/** Fails with how to install Postfix when one of its programs is missing. */
export function checkPostfixInstalled(): void {
  const missing = Object.values(POSTFIX_PROGRAMS).filter((program) => !existsSync(program));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: ${INSTALL_HINT}`);
  if (process.getuid?.() !== 0) {
    throw new Error(
      'a private Postfix instance is started as root (its master drops to the postfix user): run as root',
    );
  }
}

export function postfixVersion(): string | undefined {
  const result = spawnSync(POSTFIX_PROGRAMS.postconf, ['-d', '-h', 'mail_version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function waitListening(port: number, what: string, child?: ChildProcess): Promise<void> {
  for (const deadline = Date.now() + 20_000; !(await portInUse(port)); ) {
    if (child && exited(child)) throw new Error(`${what} exited before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} was not listening on ${port} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Postfix's own sink (`smtp-sink`): accepts every message and throws it away, answering as fast as it can.
 * Both Postfix and the relay deliver to one of these in the throughput phases, so neither waits on its
 * next hop more than the other.
 */
export async function startSmtpSink(port: number, cleanup: Cleanup): Promise<{ stop(): Promise<void> }> {
  // -u: the user it runs as (required as root); backlog 256; -c: count on exit (quiet otherwise).
  const child = spawn(POSTFIX_PROGRAMS.smtpSink, ['-u', 'postfix', `127.0.0.1:${port}`, '256'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const stop = (): Promise<void> => stopChild(child, 5000);
  const unregister = cleanup.add({ describe: 'stop smtp-sink', run: stop, force: () => child.kill('SIGKILL') });
  try {
    await waitListening(port, `smtp-sink (${stderr})`, child);
  } catch (error) {
    await stop();
    unregister();
    throw error;
  }
  return {
    stop: async () => {
      await stop();
      unregister();
    },
  };
}

export interface PrivatePostfix {
  port: number;
  /** Messages in its queue (incoming, active, deferred): 0 once everything went to the sink. */
  queued(): number;
  stop(): Promise<void>;
}

/**
 * A Postfix instance of the benchmark's own: configuration, queue and data directories under `dir`, its
 * smtpd on 127.0.0.1:`port` only, every message from loopback relayed to `sinkPort` (relayhost and
 * default_transport), DNS off. The queue keeps Postfix's defaults, so every message is fsync'd before the
 * 250. The machine's own Postfix (if the package's install started one) is neither used nor touched: this
 * instance shares no directory or port with it.
 */
export async function startPrivatePostfix(
  dir: string,
  port: number,
  sinkPort: number,
  cleanup: Cleanup,
): Promise<PrivatePostfix> {
  if (await portInUse(port)) throw new Error(`port ${port} (the benchmark's Postfix) is already in use`);
  const config = path.join(dir, 'etc');
  const queue = path.join(dir, 'spool');
  const data = path.join(dir, 'data');
  for (const folder of [config, queue, data]) mkdirSync(folder, { recursive: true });
  // Postfix's daemons run as the postfix user: they must reach the queue folder.
  chmodSync(dir, 0o755);
  const postfixUser = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  chownSync(data, Number(postfixUser.stdout.trim()), -1);
  cpSync('/etc/postfix/postfix-files', path.join(config, 'postfix-files'));
  if (existsSync('/etc/postfix/postfix-files.d'))
    cpSync('/etc/postfix/postfix-files.d', path.join(config, 'postfix-files.d'), { recursive: true });
  if (existsSync('/etc/postfix/dynamicmaps.cf'))
    copyFileSync('/etc/postfix/dynamicmaps.cf', path.join(config, 'dynamicmaps.cf'));
  if (existsSync('/etc/postfix/dynamicmaps.cf.d'))
    cpSync('/etc/postfix/dynamicmaps.cf.d', path.join(config, 'dynamicmaps.cf.d'), { recursive: true });
  const master = readFileSync('/etc/postfix/master.cf', 'utf8').replace(
    /^smtp(\s+)inet(\s)/m,
    `127.0.0.1:${port}$1inet$2`,
  );
  if (!master.includes(`127.0.0.1:${port}`)) throw new Error('could not find the smtp service in master.cf');
  writeFileSync(path.join(config, 'master.cf'), master);
  const sink = `[127.0.0.1]:${sinkPort}`;
  writeFileSync(
    path.join(config, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix.bench.invalid',
      'mydomain = bench.invalid',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'mydestination =',
      'local_recipient_maps =',
      'alias_maps =',
      'alias_database =',
      `relayhost = ${sink}`,
      `default_transport = smtp:${sink}`,
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      'smtp_dns_support_level = disabled',
      'disable_dns_lookups = yes',
      'biff = no',
      `maillog_file = ${path.join(dir, 'maillog')}`,
      `maillog_file_prefixes = ${dir}`,
      '',
    ].join('\n'),
  );
  const run = (command: string): { status: number | null; output: string } => {
    const result = spawnSync(POSTFIX_PROGRAMS.postfix, ['-c', config, command], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
  const masterPid = (): number | undefined => {
    const file = path.join(queue, 'pid/master.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const pid = masterPid();
    run('stop');
    if (pid && (await waitGone([pid], 10_000)).length > 0) signal(pid, 'SIGKILL');
  };
  const unregister = cleanup.add({
    describe: 'stop the private Postfix',
    run: stop,
    force: () => {
      const pid = masterPid();
      if (pid) signal(pid, 'SIGKILL');
    },
  });
  const started = run('start');
  if (started.status !== 0) {
    const log = existsSync(path.join(dir, 'maillog')) ? readFileSync(path.join(dir, 'maillog'), 'utf8') : '';
    throw new Error(`postfix start failed: ${started.output.trim()} ${log.split('\n').slice(-5).join(' | ')}`);
  }
  await waitListening(port, 'the private Postfix');
  const queued = (): number => {
    let count = 0;
    for (const folder of ['incoming', 'active', 'deferred', 'maildrop']) {
      const result = spawnSync('find', [path.join(queue, folder), '-type', 'f'], { encoding: 'utf8' });
      count += result.stdout.split('\n').filter(Boolean).length;
    }
    return count;
  };
  return {
    port,
    queued,
    stop: async () => {
      await stop();
      unregister();
    },
  };
}
