export { bootstrapService, type ServiceSettings } from './bootstrap';
export {
  createMetricsRegistry,
  serviceReadiness,
  HealthController,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  type ReadinessCheck,
} from './health';
