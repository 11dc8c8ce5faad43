export { N3Client, type N3Api } from './client';
export {
  ACCESS_TYPES,
  AllocateBlockRequest,
  CONNECTION_STATUSES,
  CreateConnectionRequest,
  CreateSiteRequest,
  GetConnectionRequest,
  IpOwnerRequest,
  ListConnectionsRequest,
  ListSitesRequest,
  ConnectionHistoryRequest,
  ReleaseBlockRequest,
  TransitionConnectionRequest,
  type AccessType,
  type Connection,
  type ConnectionEvent,
  type ConnectionStatus,
  type IpAllocation,
  type IpOwner,
  type Site,
} from './connections';
export { N3_CODE_SYSTEM, N3_ERRORS, N3_OWN_ERRORS, type N3ErrorCode } from './errors';
export type { AllocationEvent, ConnectionStatusEvent } from './events';
export {
  GetOrganisationRequest,
  ImportOrganisationsRequest,
  ODS_CODE_PATTERN,
  ORGANISATION_ROLE_NAMES,
  ORGANISATION_ROLES,
  ORGANISATION_STATUSES,
  POSTCODE_PATTERN,
  SearchOrganisationsRequest,
  UpsertOrganisationRequest,
  type ImportReport,
  type Organisation,
  type OrganisationRole,
  type OrganisationStatus,
  type RejectedRow,
} from './organisations';
export { importBucket, storeExtract } from './import-bucket';
export { PageRequest, type Page, type Paged } from './page';
export { N3_EVENT_STREAM, N3_EVENTS, N3_IMPORT_BUCKET, N3_QUEUE, N3_SUBJECTS } from './subjects';
export { N3_SUBJECT_POLICIES } from './policy';
