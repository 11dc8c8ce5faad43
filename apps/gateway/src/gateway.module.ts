import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { EpsClient } from '@platform/contracts-eps';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import { healthSubject, SERVICES } from '@platform/shared-catalogue';
import { NatsRpcClient, type CallerAssertionSigner } from '@platform/shared-nats';
import {
  HealthController,
  Liveness,
  LIVENESS,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  type ReadinessCheck,
} from '@platform/shared-service';
import { RateLimiter } from './auth/rate-limiter';
import { TokenVerifier } from './auth/token-verifier';
import type { GatewayConfig } from './config/gateway.config';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { publicBaseUrl } from './http/fhir-bundle';
import { GatewayHealthController } from './health/gateway-health.controller';
import { PatientController, PDS_CLIENT } from './pds/patient.controller';
import { PatientSearchController } from './pds/patient-search.controller';
import { PatientUpdateController } from './pds/patient-update.controller';
import { EPS_CLIENT, EpsController } from './eps/eps.controller';
import { ConnectionsController } from './n3/connections.controller';
import { GATEWAY_NATS, N3_CLIENT } from './n3/n3-body';
import { OrganisationsController } from './n3/organisations.controller';
import {
  AdviceClient,
  AttachmentsClient,
  EReferralsClient,
  PatientBookingClient,
  PatientLettersClient,
} from '@platform/contracts-ers';
import { E_REFERRALS_CLIENT, EReferralsController } from './e-referrals/e-referrals.controller';
import { PATIENT_BOOKING_CLIENT, PatientBookingController } from './e-referrals/patient-booking.controller';
import { ErsLettersController, PATIENT_LETTERS_CLIENT } from './e-referrals/ers-letters.controller';
import { BinaryLinks } from './e-referrals/binary-links';
import { ATTACHMENTS_CLIENT, ErsAttachmentsController } from './e-referrals/ers-attachments.controller';
import { ADVICE_CLIENT, ErsAdviceController } from './e-referrals/ers-advice.controller';
import { Gp2gpClient, Gp2gpLegacyClient } from '@platform/contracts-gp2gp';
import { GP2GP_CLIENT, Gp2gpController } from './gp2gp/gp2gp.controller';
import { GP2GP_LEGACY_CLIENT, MhsInboundController } from './gp2gp-legacy/mhs-inbound.controller';
import { NhsmailRelayClient, SecureMailClient } from '@platform/contracts-nhsmail';
import { NHSMAIL_RELAY_CLIENT, NhsmailRelayController } from './nhsmail-relay/nhsmail-relay.controller';
import { SECURE_MAIL_CLIENT, SecurePageController } from './nhsmail-relay/secure-page.controller';

export interface GatewayResources {
  config: GatewayConfig;
  nats: NatsConnection;
  metrics: Registry;
  /**
   * Signs the statement of who is calling that every message to a service carries (ADR 0014). Left out only
   * where nothing is sent (the OpenAPI document built offline).
   */
  signer?: CallerAssertionSigner;
}

@Module({})
export class GatewayModule {
  static with({ config, nats, metrics, signer }: GatewayResources): DynamicModule {
    const rpc = new NatsRpcClient(nats, { timeoutMs: config.GATEWAY_RPC_TIMEOUT_MS, signer });
    const pds = new PdsClient(rpc);
    const n3 = new N3Client(rpc);
    const eps = new EpsClient(rpc);
    const probe = { requestId: 'readiness-probe' };
    // Only NATS is critical: with one service down the gateway stays ready (status "degraded") and keeps
    // serving the other services' routes; /health/ready names the state of each, /health/ready/<name> and
    // the health_check_up metric give one service's.
    const checks: ReadinessCheck[] = [
      {
        name: 'nats',
        check: async () => {
          if (nats.isClosed()) throw new Error('closed');
          await nats.rtt();
        },
      },
      // Every service in the catalogue, through its health subject (what its own readiness also asks).
      ...SERVICES.map(
        (service): ReadinessCheck => ({
          name: service.name,
          critical: false,
          check: async () => void (await rpc.request(healthSubject(service), {}, probe, 1500)),
        }),
      ),
    ];
    const settings: GatewaySettings = {
      sandbox: config.SANDBOX,
      publicUrl: publicBaseUrl(config),
      rateLimit: { rate: config.RATE_LIMIT_PER_CLIENT, burst: config.RATE_LIMIT_BURST },
      rateLimitOverrides: RateLimiter.parseOverrides(config.RATE_LIMIT_OVERRIDES),
      addressRateLimit: { rate: config.RATE_LIMIT_PER_ADDRESS, burst: config.RATE_LIMIT_ADDRESS_BURST },
      publicClients: config.RATE_LIMIT_PUBLIC_CLIENTS.split(',').filter(Boolean),
    };
    const verifier = new TokenVerifier({
      issuer: config.OIDC_ISSUER,
      jwksUrl: config.OIDC_JWKS_URL ?? `${config.OIDC_ISSUER}/protocol/openid-connect/certs`,
      audience: config.OIDC_AUDIENCE,
      trustedClients: config.OIDC_TRUSTED_CLIENTS.split(',').filter(Boolean),
    });
    return {
      module: GatewayModule,
      controllers: [
        PatientController,
        GatewayHealthController,
        PatientUpdateController,
        PatientSearchController,
        OrganisationsController,
        ConnectionsController,
        EpsController,
        EReferralsController,
        PatientBookingController,
        ErsLettersController,
        ErsAttachmentsController,
        ErsAdviceController,
        Gp2gpController,
        MhsInboundController,
        NhsmailRelayController,
        SecurePageController,
        // service-generator: controllers
      ],
      providers: [
        { provide: GATEWAY_SETTINGS, useValue: settings },
        { provide: TokenVerifier, useValue: verifier },
        { provide: PDS_CLIENT, useValue: pds },
        { provide: N3_CLIENT, useValue: n3 },
        { provide: EPS_CLIENT, useValue: eps },
        { provide: E_REFERRALS_CLIENT, useValue: new EReferralsClient(rpc) },
        { provide: PATIENT_BOOKING_CLIENT, useValue: new PatientBookingClient(rpc) },
        { provide: PATIENT_LETTERS_CLIENT, useValue: new PatientLettersClient(rpc) },
        { provide: ATTACHMENTS_CLIENT, useValue: new AttachmentsClient(rpc) },
        { provide: BinaryLinks, useValue: new BinaryLinks(config.GATEWAY_ERS_LINK_SECRET) },
        { provide: ADVICE_CLIENT, useValue: new AdviceClient(rpc) },
        { provide: GP2GP_CLIENT, useValue: new Gp2gpClient(rpc) },
        { provide: GP2GP_LEGACY_CLIENT, useValue: new Gp2gpLegacyClient(rpc) },
        { provide: NHSMAIL_RELAY_CLIENT, useValue: new NhsmailRelayClient(rpc) },
        { provide: SECURE_MAIL_CLIENT, useValue: new SecureMailClient(rpc) },
        // service-generator: providers
        { provide: GATEWAY_NATS, useValue: nats },
        { provide: READINESS_CHECKS, useValue: checks },
        // The gateway has no database: its liveness is its event loop.
        { provide: LIVENESS, useValue: new Liveness() },
        { provide: METRICS_REGISTRY, useValue: metrics },
        // Health and metrics for GatewayHealthController's public routes. Callers are authenticated and
        // authorised in the onRequest hook (auth/caller-gate.ts), before any body is read, not by a Nest guard.
        HealthController,
      ],
    };
  }
}
