export { bootstrapService, runProcess, type Closable, type ServiceSettings } from './bootstrap';
export {
  createMetricsRegistry,
  DatabaseProbe,
  DEFAULT_LIVENESS,
  HealthController,
  Liveness,
  LIVENESS,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  serviceHealth,
  type LivenessSettings,
  type ReadinessCheck,
  type ServiceHealth,
} from './health';
