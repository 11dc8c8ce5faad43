import { Controller } from '@nestjs/common';
import { HealthController } from '@platform/shared-service';
import { PublicRoute } from '../auth/route-policy';

/**
 * /health/live (the event loop), /health/ready (200 while NATS answers: `ok`, or `degraded` naming each
 * routed service that does not answer; 503 only without NATS), /health/ready/<service> (one service: 200
 * or 503) and /metrics, without a token.
 */
@PublicRoute()
@Controller()
export class GatewayHealthController extends HealthController {}
