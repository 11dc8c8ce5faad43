import { documentedSubjects } from '@platform/shared-testing';
import { N3_EVENTS, N3_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject n3 serves and every event it publishes, and no other n3.* subject', () => {
    const constants = [...Object.values(N3_SUBJECTS), ...Object.values(N3_EVENTS)].sort();
    expect(documentedSubjects('n3')).toEqual(constants);
  });
});
