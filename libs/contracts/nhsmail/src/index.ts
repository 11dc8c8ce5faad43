export { NhsmailRelayClient, type NhsmailRelayApi } from './client';
export { NHSMAIL_CODE_SYSTEM, NHSMAIL_ERRORS, NHSMAIL_OWN_ERRORS, type NhsmailRelayErrorCode } from './errors';
export type { ItemCreatedEvent } from './events';
export { FakeNhsmailRelayClient } from './fake-client';
export { CreateItemRequest, GetItemRequest, type Item } from './items';
export { NHSMAIL_READERS, NHSMAIL_SUBJECT_POLICIES, NHSMAIL_WRITERS } from './policy';
export { NHSMAIL_EVENT_STREAM, NHSMAIL_EVENTS, NHSMAIL_QUEUE, NHSMAIL_SUBJECTS } from './subjects';
