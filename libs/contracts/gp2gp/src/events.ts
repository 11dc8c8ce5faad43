import type { ReasonCode } from './states';

/** `gp2gp.transfer.completed.v1`: the requesting practice accepted the record. No patient data. */
export interface TransferCompletedEvent {
  conversationId: string;
  requestingOds: string;
  sendingOds: string;
  occurredAt: string;
}

/**
 * `gp2gp.transfer.failed.v1`: the transfer ended in an error state with a GP2GP reason code.
 * `printRecord` is true where the sending practice must print the record instead (the requester could not
 * integrate it).
 */
export interface TransferFailedEvent {
  conversationId: string;
  requestingOds: string;
  sendingOds: string;
  reasonCode: ReasonCode;
  printRecord: boolean;
  occurredAt: string;
}

/**
 * `gp2gp.transfer.timed-out.v1`: no final acknowledgement within 8 days of the record being ready (error 99).
 * The sending practice must print the record and send it on paper (`action: 'print-record'`).
 */
export interface TransferTimedOutEvent {
  conversationId: string;
  requestingOds: string;
  sendingOds: string;
  reasonCode: '99';
  action: 'print-record';
  occurredAt: string;
}
