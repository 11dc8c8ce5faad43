/** NATS subjects the EPS service serves (request/reply). */
export const EPS_SUBJECTS = {
  /** `$prepare`: what the prescriber must sign. */
  prepare: 'eps.prescription.prepare.v1',
  /** `$process-message` with a prescription-order Bundle: verify the signature, create the prescription. */
  create: 'eps.prescription.create.v1',
  /** `Task/$release`: nominated batch or one prescription by its short-form ID. */
  release: 'eps.prescription.release.v1',
  /** `Task` (status rejected): the pharmacy gives the prescription back, so another can take it. */
  return: 'eps.prescription.return.v1',
  /** `$process-message` with a dispense-notification Bundle (or an amendment of the latest). */
  dispense: 'eps.prescription.dispense.v1',
  /** `Task` in-progress + abort: withdraw the latest dispense notification. */
  withdraw: 'eps.prescription.withdraw.v1',
  /** `Claim`: the pharmacy claims for a dispensed prescription. */
  claim: 'eps.prescription.claim.v1',
  /** `$process-message` with a prescription-order-update Bundle: cancel items. */
  cancel: 'eps.prescription.cancel.v1',
  /** A prescription's status and history. */
  get: 'eps.prescription.get.v1',
  /** Registers a prescriber's public signing key. */
  registerKey: 'eps.prescriber-key.register.v1',
  healthCheck: 'eps.health.check.v1',
} as const;

/** Events EPS publishes on JetStream, one per state change (listed one by one on the stream). */
export const EPS_EVENTS = {
  created: 'eps.prescription.created.v1',
  released: 'eps.prescription.released.v1',
  releaseFailed: 'eps.prescription.release-failed.v1',
  returned: 'eps.prescription.returned.v1',
  cancelled: 'eps.prescription.cancelled.v1',
  dispensed: 'eps.prescription.dispensed.v1',
  dispenseWithdrawn: 'eps.prescription.dispense-withdrawn.v1',
  claimed: 'eps.prescription.claimed.v1',
  expired: 'eps.prescription.expired.v1',
  /** Repeat dispensing: an issue was dispensed and the next one is To Be Dispensed. */
  nextIssue: 'eps.prescription.next-issue.v1',
  /** The prescriber asked to cancel while a pharmacy holds it: the holding pharmacy is told through this. */
  cancellationRequested: 'eps.prescription.cancellation-requested.v1',
  /** A prescriber's signing key was registered or rotated (`PrescriberKeyRegisteredMessage`). */
  prescriberKeyRegistered: 'eps.prescriber-key.registered.v1',
} as const;

export const EPS_EVENT_STREAM = 'EPS_EVENTS';
export const EPS_QUEUE = 'eps';

/** EPS prescription status codes (https://fhir.nhs.uk/CodeSystem/EPS-task-business-status). */
export const PRESCRIPTION_STATUS = {
  toBeDispensed: '0001',
  withDispenser: '0002',
  withDispenserActive: '0003',
  expired: '0004',
  cancelled: '0005',
  dispensed: '0006',
  notDispensed: '0007',
  claimed: '0008',
} as const;
export type PrescriptionStatus = (typeof PRESCRIPTION_STATUS)[keyof typeof PRESCRIPTION_STATUS];
