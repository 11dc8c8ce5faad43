import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@platform/shared-service';

/** gp2gp's own metrics on /metrics, beside the service's standard ones. */
@Injectable()
export class Gp2gpMetrics {
  readonly transitions: Counter<'state'>;
  readonly fragments: Counter;
  readonly bytes: Counter<'direction'>;
  readonly duration: Histogram;
  readonly active: Gauge;
  readonly objectStoreBytes: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.transitions = new Counter({
      name: 'gp2gp_transfer_transitions_total',
      help: 'Transfers reaching each state',
      labelNames: ['state'],
      registers: [registry],
    });
    this.fragments = new Counter({
      name: 'gp2gp_fragments_stored_total',
      help: 'Attachment fragments stored in the object store',
      registers: [registry],
    });
    this.bytes = new Counter({
      name: 'gp2gp_attachment_bytes_total',
      help: 'Attachment bytes moved: in (from sending practices) and out (to requesting practices)',
      labelNames: ['direction'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'gp2gp_transfer_ready_seconds',
      help: 'From the request to the record being ready for the requesting practice',
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    });
    this.active = new Gauge({
      name: 'gp2gp_transfers_in_progress',
      help: 'Transfers this process is moving now',
      registers: [registry],
    });
    this.objectStoreBytes = new Gauge({
      name: 'gp2gp_object_store_bytes',
      help: 'Bytes held in the fragment object store',
      registers: [registry],
    });
  }
}
