import { PDS_SUBJECT_POLICIES } from './policy';
import { PDS_SUBJECTS } from './subjects';

describe('who may call each pds subject', () => {
  it('is stated for every subject pds serves (a subject without a policy is refused to everyone)', () => {
    expect(Object.keys(PDS_SUBJECT_POLICIES).sort()).toEqual(Object.values(PDS_SUBJECTS).sort());
  });

  it('leaves only the health check open to anyone', () => {
    const open = Object.entries(PDS_SUBJECT_POLICIES).filter(([, policy]) => 'public' in policy);
    expect(open.map(([subject]) => subject)).toEqual([PDS_SUBJECTS.healthCheck]);
  });
});
