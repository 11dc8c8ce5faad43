import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min, ValidateIf } from 'class-validator';

/** Who manages the queue: operations. */
export const NHSMAIL_QUEUE_OPERATORS = ['ops'] as const;

export const DELIVERY_STATES = ['pending', 'delivered', 'bounced'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

export class ListQueueRequest {
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  state?: DeliveryState;

  @IsOptional()
  @Matches(DOMAIN, { message: 'domain must be a lower-case mail domain' })
  domain?: string;

  /** Only deliveries whose message arrived at least this many minutes ago. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(525_600)
  olderThanMinutes?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

/** One recipient's copy in the queue (addresses for operators; never content). */
export interface QueuedDelivery {
  id: string;
  message: string;
  recipient: string;
  local: boolean;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  /** A worker holds it now (its lease has not ended): retry and purge leave it alone. */
  inFlight: boolean;
  lastError: string | null;
  receivedAt: string;
}

export interface QueuePage {
  deliveries: QueuedDelivery[];
  total: number;
  offset: number;
  limit: number;
}

/** Retry now one pending delivery, or every pending delivery to a domain. */
export class RetryQueueRequest {
  @ValidateIf((request: RetryQueueRequest) => request.domain === undefined)
  @Matches(/^\d{1,18}$/, { message: 'deliveryId must be a delivery id (or give domain)' })
  deliveryId?: string;

  @ValidateIf((request: RetryQueueRequest) => request.deliveryId === undefined)
  @Matches(DOMAIN, { message: 'domain must be a lower-case mail domain (or give deliveryId)' })
  domain?: string;
}

/** Purge (bounce without a notice) the pending deliveries of one message, or all pending deliveries to a domain. */
export class PurgeQueueRequest {
  @ValidateIf((request: PurgeQueueRequest) => request.domain === undefined)
  @IsUUID()
  messageId?: string;

  @ValidateIf((request: PurgeQueueRequest) => request.messageId === undefined)
  @Matches(DOMAIN, { message: 'domain must be a lower-case mail domain (or give messageId)' })
  domain?: string;
}

export interface QueueActionResult {
  /** Deliveries changed. */
  changed: number;
  /** Deliveries a worker held at that moment, left alone (try again after their lease). */
  inFlight: number;
}
