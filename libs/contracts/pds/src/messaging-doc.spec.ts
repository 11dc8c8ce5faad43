import { documentedSubjects } from '@platform/shared-testing';
import { PDS_EVENTS, PDS_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject pds serves and every event it publishes, and no other pds.* subject', () => {
    const constants = [...Object.values(PDS_SUBJECTS), ...Object.values(PDS_EVENTS)].sort();
    expect(documentedSubjects('pds')).toEqual(constants);
  });
});
