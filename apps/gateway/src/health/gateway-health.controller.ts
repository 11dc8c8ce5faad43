import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HealthController } from '@platform/shared-service';
import { PublicRoute } from '../auth/route-policy';

/**
 * /health/live (the event loop), /health/ready (200 while NATS answers: `ok`, or `degraded` naming each
 * routed service that does not answer; 503 only without NATS), /health/ready/<service> (one service: 200
 * or 503) and /metrics, without a token. The shared HealthController does the work; each route here
 * carries its own public policy, which the gateway's onRequest hook reads. With GATEWAY_METRICS_PORT set,
 * /metrics is served only on that port (see metrics-listener.ts) and this route answers 404.
 */
@ApiExcludeController()
@Controller()
export class GatewayHealthController {
  constructor(private readonly health: HealthController) {}

  @Get('health/live')
  @PublicRoute()
  live(@Res({ passthrough: true }) reply: FastifyReply): ReturnType<HealthController['live']> {
    return this.health.live(reply);
  }

  @Get('health/ready')
  @PublicRoute()
  ready(@Res({ passthrough: true }) reply: FastifyReply): ReturnType<HealthController['ready']> {
    return this.health.ready(reply);
  }

  @Get('health/ready/:check')
  @PublicRoute()
  readyOne(
    @Param('check') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): ReturnType<HealthController['readyOne']> {
    return this.health.readyOne(name, reply);
  }

  @Get('metrics')
  @PublicRoute()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.health.metrics();
  }
}
