/** The typed clients of the services e-referrals asks: PDS (patients) and the N3 registry (organisations). */
export const ERS_PDS = Symbol('ERS_PDS');
export const ERS_N3 = Symbol('ERS_N3');
