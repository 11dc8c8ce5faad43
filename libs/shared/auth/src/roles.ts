/**
 * The platform's realm roles (BRIEF section 3), mirroring national RBAC. The identity provider issues them in
 * `realm_access.roles`; the gateway's routes name which of them may call.
 */
export const PLATFORM_ROLES = [
  'clinician',
  'pharmacist',
  'provider-clinician',
  'practice-admin',
  'registry-admin',
  'ops',
  'patient',
] as const;

export type PlatformRole = (typeof PLATFORM_ROLES)[number];

export function isPlatformRole(value: string): value is PlatformRole {
  return (PLATFORM_ROLES as readonly string[]).includes(value);
}
