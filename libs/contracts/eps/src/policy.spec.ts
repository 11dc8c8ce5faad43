import { EPS_SUBJECT_POLICIES } from './policy';
import { EPS_SUBJECTS } from './subjects';

describe('who may call each eps subject', () => {
  it('is stated for every subject eps serves (a subject without a policy is refused to everyone)', () => {
    expect(Object.keys(EPS_SUBJECT_POLICIES).sort()).toEqual(Object.values(EPS_SUBJECTS).sort());
  });

  it('leaves only the health check open to anyone', () => {
    const open = Object.entries(EPS_SUBJECT_POLICIES).filter(([, policy]) => 'public' in policy);
    expect(open.map(([subject]) => subject)).toEqual([EPS_SUBJECTS.healthCheck]);
  });
});
