/** The typed clients of the services EPS asks: PDS (patients) and the N3 registry (the organisation directory). */
export const EPS_PDS = Symbol('EPS_PDS');
export const EPS_N3 = Symbol('EPS_N3');
