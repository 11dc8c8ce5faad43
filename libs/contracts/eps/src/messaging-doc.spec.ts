import { documentedSubjects } from '@platform/shared-testing';
import { EPS_EVENTS, EPS_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject eps serves and every event it publishes, and no other eps.* subject', () => {
    const constants = [...Object.values(EPS_SUBJECTS), ...Object.values(EPS_EVENTS)].sort();
    expect(documentedSubjects('eps')).toEqual(constants);
  });
});
