import 'reflect-metadata';
import { documentedSubjects } from '@platform/shared-testing';
import { GP2GP_LEGACY_SUBJECTS } from './legacy';
import { GP2GP_EVENTS, GP2GP_SUBJECTS } from './subjects';

describe('docs/messaging.md', () => {
  it('lists every subject gp2gp serves and every event it publishes, and no other gp2gp.* subject', () => {
    const constants = [
      ...Object.values(GP2GP_SUBJECTS),
      ...Object.values(GP2GP_LEGACY_SUBJECTS),
      ...Object.values(GP2GP_EVENTS),
    ].sort();
    expect(documentedSubjects('gp2gp')).toEqual(constants);
  });
});
