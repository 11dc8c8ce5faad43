/**
 * The organisation directory's repository lives in `shared/` (the organisations feature serves it, the
 * connections feature checks organisations in it). This path is kept only for `imports/import-extract.ts`,
 * which names it; when that file imports from `../shared/organisation.repository`, delete this one.
 */
export { OrganisationRepository } from '../shared/organisation.repository';
