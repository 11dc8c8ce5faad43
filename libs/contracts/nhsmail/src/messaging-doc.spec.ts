import { documentedSubjects } from '@platform/shared-testing';
import { NHSMAIL_EVENTS, NHSMAIL_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject nhsmail-relay serves and every event it publishes, and no other nhsmail.* subject', () => {
    const constants = [...Object.values(NHSMAIL_SUBJECTS), ...Object.values(NHSMAIL_EVENTS)].sort();
    expect(documentedSubjects('nhsmail')).toEqual(constants);
  });
});
