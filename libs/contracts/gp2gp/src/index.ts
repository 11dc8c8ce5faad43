export { Gp2gpClient, type Gp2gpApi } from './client';
export { GP2GP_CODE_SYSTEM, GP2GP_ERRORS, GP2GP_OWN_ERRORS, type Gp2gpErrorCode } from './errors';
export type { ItemCreatedEvent } from './events';
export { FakeGp2gpClient } from './fake-client';
export { CreateItemRequest, GetItemRequest, type Item } from './items';
export { GP2GP_READERS, GP2GP_SUBJECT_POLICIES, GP2GP_WRITERS } from './policy';
export { GP2GP_EVENT_STREAM, GP2GP_EVENTS, GP2GP_QUEUE, GP2GP_SUBJECTS } from './subjects';
