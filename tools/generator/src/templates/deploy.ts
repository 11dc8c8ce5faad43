import type { ServiceNames } from '../names';

/** The service's block under `services:` in deploy/charts/platform/values.yaml (the eps block's shape). */
export function valuesBlock(n: ServiceNames): string {
  return `
  ${n.name}:
    image:
      repository: ${n.name}
    # NATS microservice (${n.title}); /health and /metrics on ${n.port}
    ports:
      metrics: ${n.port}
    portEnv:
      metrics: ${n.envPrefix}_HTTP_PORT
    env:
      ${n.envPrefix}_HTTP_HOST: 0.0.0.0
    resources:
      requests:
        cpu: 200m
        memory: 256Mi
      limits:
        cpu: '2'
        memory: 768Mi
`;
}

/** The service's block of .env.example (the per-service blocks' shape). */
export function envBlock(n: ServiceNames): string {
  const P = n.envPrefix;
  const rule = `# ${'-'.repeat(105)}`;
  return `${rule}
# ${n.title}: ${n.appDir}/src/config/${n.configModule}.ts
${rule}

# The schema ${n.name} owns (created if missing) and its connection pool size (1..200).
# ${P}_DB_SCHEMA=${n.schema}
# ${P}_DB_POOL_SIZE=10
# Longest wait for a pool connection (100..60000 ms), and PostgreSQL's statement_timeout for the service's
# statements (100..600000 ms; migrations are not bound by it). Past either: 503 REC_UNAVAILABLE, Retry-After: 2.
# ${P}_DB_ACQUIRE_TIMEOUT_MS=2000
# ${P}_DB_STATEMENT_TIMEOUT_MS=10000

# Health and metrics listener. Use 0.0.0.0 in a container; 0 picks a free port.
# The launcher always passes ${P}_HTTP_HOST=127.0.0.1.
# ${P}_HTTP_HOST=127.0.0.1
# ${P}_HTTP_PORT=${n.port}

# How long a write's answer is kept for retries with the same X-Request-ID, and published events in the outbox.
# ${P}_IDEMPOTENCY_RETENTION_HOURS=72
# ${P}_OUTBOX_RETENTION_HOURS=168

`;
}
