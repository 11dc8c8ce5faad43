import { N3_SUBJECT_POLICIES } from './policy';
import { N3_SUBJECTS } from './subjects';

describe('who may call each n3 subject', () => {
  it('is stated for every subject n3 serves (a subject without a policy is refused to everyone)', () => {
    expect(Object.keys(N3_SUBJECT_POLICIES).sort()).toEqual(Object.values(N3_SUBJECTS).sort());
  });

  it('leaves only the health check open to anyone', () => {
    const open = Object.entries(N3_SUBJECT_POLICIES).filter(([, policy]) => 'public' in policy);
    expect(open.map(([subject]) => subject)).toEqual([N3_SUBJECTS.healthCheck]);
  });
});
