import { Controller } from '@nestjs/common';
import { HealthController } from '@platform/shared-service';
import { PublicRoute } from '../auth/route-policy';

/** /health/live, /health/ready (NATS and every routed service answer) and /metrics, without a token. */
@PublicRoute()
@Controller()
export class GatewayHealthController extends HealthController {}
