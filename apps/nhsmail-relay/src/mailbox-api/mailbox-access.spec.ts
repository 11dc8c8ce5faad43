import type { Mailbox } from '@platform/contracts-nhsmail';
import { mayUse } from './mailbox-access';
import { localPartOf, localPartOfName } from './personal-mailboxes';

const mailbox = (overrides: Partial<Mailbox>): Mailbox => ({
  address: 'x@nhs.net',
  kind: 'personal',
  displayName: 'x',
  ownerUsername: null,
  odsCode: null,
  members: [],
  hasPassword: false,
  createdAt: '2026-12-05T00:00:00.000Z',
  ...overrides,
});

describe('who may use a mailbox', () => {
  it('a personal mailbox: its owner only; a shared one: its members and the users of its organisation', () => {
    const personal = mailbox({ ownerUsername: 'priya.shah' });
    expect(mayUse(personal, { id: 'u1', username: 'priya.shah', roles: ['pharmacist'] })).toBe(true);
    expect(mayUse(personal, { id: 'u2', username: 'tom.okafor', roles: ['pharmacist'] })).toBe(false);
    // A service (no username) or no caller at all: never.
    expect(mayUse(personal, { id: 'service:x', roles: ['service:x'] })).toBe(false);
    expect(mayUse(personal, undefined)).toBe(false);
    const shared = mailbox({ kind: 'shared', odsCode: 'FCG72', members: ['sam.jones'] });
    expect(mayUse(shared, { id: 'u3', username: 'sam.jones', roles: ['pharmacist'], organisation: 'RR8' })).toBe(true);
    expect(mayUse(shared, { id: 'u1', username: 'priya.shah', roles: ['pharmacist'], organisation: 'FCG72' })).toBe(
      true,
    );
    expect(mayUse(shared, { id: 'u2', username: 'tom.okafor', roles: ['pharmacist'], organisation: 'RR8' })).toBe(
      false,
    );
    expect(mayUse(mailbox({ kind: 'shared', odsCode: null }), { id: 'u', username: 'a', roles: [] })).toBe(false);
  });
});

describe('personal mailbox addresses', () => {
  it('come from a username, or from a first and last name as NHSmail writes them', () => {
    expect(localPartOf('Jane.Smith')).toBe('jane.smith');
    expect(localPartOf('service-account-x')).toBe('service-account-x');
    expect(localPartOf('a..b@@c')).toBe('a.b.c');
    expect(localPartOf('...')).toBe('user');
    expect(localPartOfName('Zoë', 'Ångström')).toBe('zoe.angstrom');
    expect(localPartOfName('Mary Ann', "O'Neill")).toBe('mary-ann.oneill');
    expect(localPartOfName('…', 'Smith')).toBeUndefined();
  });
});
