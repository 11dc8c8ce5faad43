import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { HealthController, METRICS_REGISTRY, READINESS_CHECKS, type ReadinessCheck } from '@platform/shared-service';
import { ReadAuditRepository } from './audit/read-audit.repository';
import { PDS_DATABASE, type PdsDatabase } from './database/database.provider';
import { PatientHandler } from './patients/patient.handler';
import { PatientRepository } from './patients/patient.repository';
import { ReadPatientUseCase } from './patients/read-patient.usecase';

export interface PdsResources {
  database: PdsDatabase;
  nats: NatsConnection;
  metrics: Registry;
}

class ResourceCloser implements OnApplicationShutdown {
  constructor(private readonly resources: PdsResources) {}

  async onApplicationShutdown(): Promise<void> {
    await this.resources.nats.drain().catch(() => undefined);
    await this.resources.database.dataSource.destroy();
  }
}

@Module({})
export class PdsModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: PdsResources): DynamicModule {
    const checks: ReadinessCheck[] = [
      { name: 'postgres', check: async () => void (await resources.database.pool.query('SELECT 1')) },
      {
        name: 'nats',
        check: async () => {
          if (resources.nats.isClosed()) throw new Error('closed');
          await resources.nats.rtt();
        },
      },
    ];
    return {
      module: PdsModule,
      controllers: [PatientHandler, HealthController],
      providers: [
        { provide: PDS_DATABASE, useValue: resources.database },
        { provide: READINESS_CHECKS, useValue: checks },
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        { provide: ResourceCloser, useValue: new ResourceCloser(resources) },
        PatientRepository,
        ReadAuditRepository,
        ReadPatientUseCase,
      ],
    };
  }
}
