import { gatewayNatsPermissions, platformNatsPermissions, serviceNatsPermissions } from './nats-permissions';
import { SERVICES, serviceNamed, type ServiceEntry } from './services';

describe('NATS permissions from the catalogue', () => {
  it('gives each service its own subjects, its inbox, its calls and its stream, and lets it answer', () => {
    expect(serviceNatsPermissions(serviceNamed('eps'))).toEqual({
      user: 'eps',
      publish: [
        'eps.>',
        'pds.patient.get.v1',
        'n3.organisation.get.v1',
        '$JS.API.INFO',
        '$JS.API.STREAM.INFO.EPS_EVENTS',
        '$JS.API.STREAM.CREATE.EPS_EVENTS',
        '$JS.API.STREAM.UPDATE.EPS_EVENTS',
      ],
      publishDeny: SERVICES.filter((service) => service.name !== 'eps').flatMap((service) => service.events ?? []),
      subscribe: ['eps.>', '_INBOX.eps.>'],
      allowResponses: true,
    });
  });

  it("lets a service follow another's events through its named durable consumers only", () => {
    const relay = serviceNatsPermissions(serviceNamed('nhsmail-relay'));
    const consumer = relay.publish.filter((subject) => subject.includes('CONSUMER') || subject.startsWith('$JS.ACK'));
    expect(consumer).toEqual(
      expect.arrayContaining([
        '$JS.API.CONSUMER.CREATE.GP2GP_EVENTS.nhsmail-gp2gp-timed-out.gp2gp.transfer.timed-out.v1',
        '$JS.API.CONSUMER.INFO.GP2GP_EVENTS.nhsmail-gp2gp-timed-out',
        '$JS.API.CONSUMER.MSG.NEXT.GP2GP_EVENTS.nhsmail-gp2gp-timed-out',
        '$JS.ACK.GP2GP_EVENTS.nhsmail-gp2gp-timed-out.>',
        '$JS.API.CONSUMER.CREATE.ERS_EVENTS.nhsmail-ers-referral-rejected.ers.referral.rejected.v1',
        '$JS.API.CONSUMER.CREATE.ERS_EVENTS.nhsmail-ers-advice-converted.ers.advice.converted.v1',
        '$JS.API.CONSUMER.INFO.ERS_EVENTS.nhsmail-ers-advice-converted',
        '$JS.API.CONSUMER.MSG.NEXT.ERS_EVENTS.nhsmail-ers-advice-converted',
        '$JS.ACK.ERS_EVENTS.nhsmail-ers-advice-converted.>',
      ]),
    );
    // Five consumers, four subjects each; no wildcard over another stream's consumers, no stream management.
    expect(consumer).toHaveLength(20);
    expect(consumer.filter((subject) => /\.(ERS|GP2GP)_EVENTS\.>$|DELETE|PURGE/.test(subject))).toEqual([]);
    expect(relay.publish.filter((subject) => /STREAM\.(CREATE|UPDATE)\.(ERS|GP2GP)_EVENTS/.test(subject))).toEqual([]);
    // The services it follows are left as they were.
    expect(serviceNatsPermissions(serviceNamed('gp2gp')).publish.some((subject) => subject.includes('nhsmail'))).toBe(
      false,
    );
  });

  it('lets the owner of an object store read and delete, and the processes it names only put', () => {
    const n3 = serviceNatsPermissions(serviceNamed('n3-registry'));
    expect(n3.publish).toEqual(
      expect.arrayContaining([
        '$JS.API.STREAM.CREATE.OBJ_n3-imports',
        '$JS.API.CONSUMER.CREATE.OBJ_n3-imports.>',
        '$JS.API.STREAM.PURGE.OBJ_n3-imports',
      ]),
    );
    // An owner puts its own objects too (gp2gp stores the fragments it fetches): chunks and metadata.
    expect(serviceNatsPermissions(serviceNamed('gp2gp')).publish).toEqual(
      expect.arrayContaining(['$O.gp2gp-fragments.C.>', '$O.gp2gp-fragments.M.>']),
    );
    const gateway = gatewayNatsPermissions();
    expect(gateway.publish).toEqual(expect.arrayContaining(['$O.n3-imports.C.>', '$O.n3-imports.M.>']));
    expect(gateway.publish.filter((subject) => /CONSUMER|PURGE|CREATE|DELETE|UPDATE/.test(subject))).toEqual([]);
  });

  it('lets the gateway call every service, publish none of their events, and subscribe to nothing but its inbox', () => {
    const gateway = gatewayNatsPermissions();
    for (const service of SERVICES) {
      expect(gateway.publish).toContain(`${service.subjectPrefix}.>`);
      expect(service.events?.length).toBeGreaterThan(0);
      expect(gateway.publishDeny).toEqual(expect.arrayContaining([...(service.events ?? [])]));
    }
    expect(gateway.subscribe).toEqual(['_INBOX.gateway.>']);
    expect(gateway.allowResponses).toBe(false);
  });

  it("never lets anyone subscribe to another process's subjects or every inbox, nor publish to inboxes", () => {
    for (const permissions of platformNatsPermissions()) {
      const own = SERVICES.find((service) => service.name === permissions.user)?.subjectPrefix;
      for (const subject of permissions.subscribe) {
        expect([permissions.user, subject]).toEqual([
          permissions.user,
          expect.stringMatching(
            own ? new RegExp(`^(${own}\\.>|_INBOX\\.${permissions.user}\\.>)$`) : /^_INBOX\.gateway\.>$/,
          ),
        ]);
      }
      expect(permissions.publish.filter((subject) => subject.startsWith('_INBOX') || subject === '>')).toEqual([]);
    }
  });

  it('refuses a call that is not a request subject of another catalogued service', () => {
    const entry = (calls: string[]): ServiceEntry => ({ ...serviceNamed('eps'), calls });
    expect(() => serviceNatsPermissions(entry(['unknown.record.get.v1']))).toThrow(/unknown.record.get.v1/);
    expect(() => serviceNatsPermissions(entry(['eps.prescription.get.v1']))).toThrow();
    expect(() => serviceNatsPermissions(entry(['pds.>']))).toThrow();
  });

  it('gives a new service of the generator (no calls, a stream) permissions of its own', () => {
    const added: ServiceEntry = {
      name: 'gp2gp',
      subjectPrefix: 'gp2gp',
      envPrefix: 'GP2GP',
      schema: 'gp2gp',
      healthPort: 9470,
      entry: 'apps/gp2gp/src/main.js',
      sandboxSeed: false,
      eventStream: 'GP2GP_EVENTS',
      calls: [],
      colour: '31',
    };
    const all = [...SERVICES, added];
    expect(serviceNatsPermissions(added, all).subscribe).toEqual(['gp2gp.>', '_INBOX.gp2gp.>']);
    expect(gatewayNatsPermissions(all).publish).toContain('gp2gp.>');
  });
});
