/** The typed clients of the services gp2gp asks on the caller's behalf: PDS (the patient) and the N3 registry. */
export const GP2GP_PDS = Symbol('GP2GP_PDS');
export const GP2GP_N3 = Symbol('GP2GP_N3');
/** Settings the transfer features share (from Gp2gpConfig). */
export const GP2GP_SETTINGS = Symbol('GP2GP_SETTINGS');

export interface Gp2gpSettings {
  fragmentBytes: number;
  maxExtractBytes: number;
  ackTimeoutHours: number;
  workers: number;
  leaseMs: number;
  senderAttempts: number;
  senderTimeoutMs: number;
  pollMs: number;
}
