import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { healthSubject, SERVICES, serviceVariables } from './services';

const root = path.resolve(__dirname, '../../../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

describe('the service catalogue', () => {
  it('gives each service its own name, subject prefix, variable prefix, schema and health port', () => {
    for (const key of ['name', 'subjectPrefix', 'envPrefix', 'schema', 'healthPort'] as const) {
      const values = SERVICES.map((service) => service[key]);
      expect([key, new Set(values).size]).toEqual([key, values.length]);
    }
    // 8080 and 8081 are the gateway's and the identity provider's.
    expect(SERVICES.filter((service) => [8080, 8081].includes(service.healthPort))).toEqual([]);
  });

  it.each(SERVICES.map((service) => [service.name, service]))(
    'describes %s as its code has it: app, contracts, health subject, variables and defaults',
    (_name, service) => {
      const source = service.entry.replace(/\.js$/, '.ts');
      expect(existsSync(path.join(root, source))).toBe(true);
      expect(read(`libs/contracts/${service.subjectPrefix}/src/subjects.ts`)).toContain(`'${healthSubject(service)}'`);
      const config = read(`apps/${service.name}/src/config/${service.subjectPrefix}.config.ts`);
      const variables = serviceVariables(service);
      expect(config).toContain(`${variables.httpPort} = ${service.healthPort};`);
      expect(config).toContain(`${variables.schema} = '${service.schema}';`);
      expect(config).toContain(`${variables.poolSize} = `);
      expect(config.includes(`${variables.seed}:`)).toBe(service.sandboxSeed);
      if (service.eventStream) {
        expect(read(`libs/contracts/${service.subjectPrefix}/src/subjects.ts`)).toContain(`'${service.eventStream}'`);
      }
      // Its events, exactly the contracts' <P>_EVENTS: the NATS permissions keep everyone else from publishing them.
      const subjects = read(`libs/contracts/${service.subjectPrefix}/src/subjects.ts`);
      const block = /export const [A-Z0-9]+_EVENTS = \{([^}]*)\}/.exec(subjects)?.[1] ?? '';
      const declared = [...block.matchAll(/'([a-z0-9.-]+)'/g)].map((match) => match[1]);
      expect([...(service.events ?? [])].sort()).toEqual(declared.sort());
    },
  );

  it('has a block in the chart for each service, on its health port, and nothing the catalogue does not list', () => {
    const values = parse(read('deploy/charts/platform/values.yaml')) as {
      services: Record<string, { ports?: { metrics?: number }; portEnv?: { metrics?: string } }>;
    };
    const charted = Object.keys(values.services).filter((name) => name !== 'gateway');
    expect(charted.sort()).toEqual(SERVICES.map((service) => service.name).sort());
    for (const service of SERVICES) {
      expect([service.name, values.services[service.name]?.ports?.metrics]).toEqual([service.name, service.healthPort]);
      expect(values.services[service.name]?.portEnv?.metrics).toBe(serviceVariables(service).httpPort);
    }
  });

  it('names each service in .env.example with its port variable', () => {
    const example = read('.env.example');
    for (const service of SERVICES)
      expect(example).toContain(`${serviceVariables(service).httpPort}=${service.healthPort}`);
  });
});
