import { documentedSubjects } from '@platform/shared-testing';
import { ERS_EVENTS, ERS_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject e-referrals serves and every event it publishes, and no other ers.* subject', () => {
    const constants = [...Object.values(ERS_SUBJECTS), ...Object.values(ERS_EVENTS)].sort();
    expect(documentedSubjects('ers')).toEqual(constants);
  });
});
