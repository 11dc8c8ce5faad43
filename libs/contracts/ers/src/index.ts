export { EReferralsClient, type EReferralsApi } from './client';
export { ERS_CODE_SYSTEM, ERS_ERRORS, ERS_OWN_ERRORS, type EReferralsErrorCode } from './errors';
export type { ItemCreatedEvent } from './events';
export { FakeEReferralsClient } from './fake-client';
export { CreateItemRequest, GetItemRequest, type Item } from './items';
export { ERS_READERS, ERS_SUBJECT_POLICIES, ERS_WRITERS } from './policy';
export { ERS_EVENT_STREAM, ERS_EVENTS, ERS_QUEUE, ERS_SUBJECTS } from './subjects';
export * from './patient';
