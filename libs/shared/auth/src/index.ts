export { PLATFORM_ROLES, isPlatformRole, type PlatformRole } from './roles';
