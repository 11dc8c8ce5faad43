import { startGpConnectSimulator } from './simulator';

/**
 * `node dist/tools/gpconnect-simulator/src/main.js`: the GP Connect provider simulator of the demo practices
 * (a stand-in for the practices' clinical systems, for local runs; not a platform service). Listens on
 * GPCONNECT_SIMULATOR_PORT (default 9480) at GPCONNECT_SIMULATOR_HOST (default 127.0.0.1).
 */
async function main(): Promise<void> {
  const port = Number(process.env['GPCONNECT_SIMULATOR_PORT'] ?? 9480);
  const host = process.env['GPCONNECT_SIMULATOR_HOST'] ?? '127.0.0.1';
  const practices = process.env['GPCONNECT_SIMULATOR_PRACTICES']?.split(',').filter(Boolean);
  const simulator = await startGpConnectSimulator({ port, host, practices });
  process.stdout.write(
    `GP Connect provider simulator listening on ${simulator.url} (practice endpoints at ${simulator.endpointOf('<ODS>')})\n`,
  );
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
