import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The docs name what the code holds: every project with its tags, every route, every stream and bucket,
 * every configuration variable. The files are read as text (this project may import only utilities and
 * testing libraries, not the contracts or apps it checks), so each check reads the source of truth the way
 * a newcomer would and fails naming what the doc is missing.
 */
const root = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

/** The property names of a config class (`NAME = default;` or `NAME?: type = default;`), in order. */
function configVariables(file: string): string[] {
  return [...read(file).matchAll(/^ {2}([A-Z][A-Z0-9_]+)\??(?::[^=\n]+)? = /gm)].map((match) => match[1]);
}

/**
 * The defaults of a config class that are literals: strings, booleans and whole numbers, products such as
 * `128 * 1024 * 1024` worked out. (`undefined` defaults, computed elsewhere, are left to the prose.)
 */
function configDefaults(file: string): [string, string][] {
  const defaults: [string, string][] = [];
  for (const match of read(file).matchAll(/^ {2}([A-Z][A-Z0-9_]+)(?::[^=\n]+)? = (.+);$/gm)) {
    const value = match[2].trim();
    const text = /^'(.*)'$/.exec(value)?.[1];
    if (text !== undefined) defaults.push([match[1], text]);
    else if (/^(true|false)$/.test(value)) defaults.push([match[1], value]);
    else if (/^[\d_]+( \* [\d_]+)*$/.test(value)) {
      const product = value.split(' * ').reduce((total, factor) => total * Number(factor.replace(/_/g, '')), 1);
      defaults.push([match[1], String(product)]);
    }
  }
  return defaults;
}

/** Words written in backquotes in a Markdown file. */
function backquoted(file: string): Set<string> {
  return new Set([...read(file).matchAll(/`([^`\n]+)`/g)].map((match) => match[1]));
}

describe('apps/gateway/README.md', () => {
  const readme = backquoted('apps/gateway/README.md');

  it('lists every route of docs/openapi.json as `METHOD path`', () => {
    const document = JSON.parse(read('docs/openapi.json')) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(document.paths).flatMap(([route, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${route}`),
    );
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((route) => !readme.has(route))).toEqual([]);
  });

  it('gives every GatewayConfig variable with a literal default that default', () => {
    const rows = new Map(
      [...read('apps/gateway/README.md').matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|([^|]+)\|/gm)].map((match) => [
        match[1],
        match[2].trim(),
      ]),
    );
    const wrong: string[] = [];
    for (const [name, literal] of configDefaults('apps/gateway/src/config/gateway.config.ts')) {
      const expected = literal === '' ? 'empty' : `\`${literal}\``;
      if (rows.get(name) !== expected) wrong.push(`${name}: README says ${rows.get(name)}, the code ${expected}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('service READMEs and .env.example', () => {
  const configs: [readme: string, config: string][] = [
    ['apps/gateway/README.md', 'apps/gateway/src/config/gateway.config.ts'],
    ['apps/pds/README.md', 'apps/pds/src/config/pds.config.ts'],
    ['apps/n3-registry/README.md', 'apps/n3-registry/src/config/n3.config.ts'],
    ['apps/eps/README.md', 'apps/eps/src/config/eps.config.ts'],
    ['apps/e-referrals/README.md', 'apps/e-referrals/src/config/ers.config.ts'],
    ['apps/gp2gp/README.md', 'apps/gp2gp/src/config/gp2gp.config.ts'],
    ['apps/nhsmail-relay/README.md', 'apps/nhsmail-relay/src/config/nhsmail.config.ts'],
  ];

  it.each(configs)('%s names every variable of %s', (readme, config) => {
    const documented = backquoted(readme);
    const variables = configVariables(config);
    expect(variables).toContain('LOG_LEVEL');
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('.env.example has a line for every variable of every config class', () => {
    const example = read('.env.example');
    const missing = configs
      .flatMap(([, config]) => configVariables(config))
      .filter((name) => !new RegExp(`^# ${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });
});

/** Every project.json under apps/, libs/ and tools/ (two levels down), with its name and tags. */
function projects(): { name: string; root: string; tags: string[] }[] {
  const found: { name: string; root: string; tags: string[] }[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = `${dir}/${entry.name}`;
      if (existsSync(path.join(root, child, 'project.json'))) {
        const project = JSON.parse(read(`${child}/project.json`)) as { name: string; tags?: string[] };
        found.push({ name: project.name, root: child, tags: project.tags ?? [] });
      } else if (depth > 0) {
        walk(child, depth - 1);
      }
    }
  };
  for (const top of ['apps', 'libs', 'tools']) walk(top, 1);
  return found;
}

/** The Markdown table row that starts with `key` in backquotes. */
function row(text: string, key: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith(`| \`${key}\``));
}

describe('docs/architecture.md', () => {
  const architecture = read('docs/architecture.md');
  const all = projects();

  it('lists every project with its path and exactly its tags', () => {
    expect(all.map((project) => project.name)).toEqual(expect.arrayContaining(['gateway', 'eps', 'shared-testing']));
    const wrong = all.flatMap(({ name, root: dir, tags }) => {
      const line = row(architecture, name);
      if (!line) return [`${name}: no row`];
      const listed = [...line.matchAll(/`((?:scope|type):[a-z0-9-]+)`/g)].map((match) => match[1]).sort();
      const problems: string[] = [];
      if (JSON.stringify(listed) !== JSON.stringify([...tags].sort())) {
        problems.push(`${name}: the row says ${listed.join(', ')}, project.json ${tags.join(', ')}`);
      }
      if (!line.includes(`\`${dir}\``)) problems.push(`${name}: the row does not give its path ${dir}`);
      return problems;
    });
    expect(wrong).toEqual([]);
  });

  it('has a rule row for every source tag of the module-boundary rules in eslint.config.mjs', () => {
    const sourceTags = [...read('eslint.config.mjs').matchAll(/sourceTag: '([^']+)'/g)].map((match) => match[1]);
    expect(sourceTags).toContain('scope:eps');
    expect(sourceTags.filter((tag) => row(architecture, tag) === undefined)).toEqual([]);
  });

  it('explains every tag a project carries', () => {
    const tags = [...new Set(all.flatMap((project) => project.tags))];
    expect(tags.filter((tag) => !architecture.includes(`\`${tag}\``))).toEqual([]);
  });

  it('describes every library under libs/', () => {
    const libraries = all.filter((project) => project.root.startsWith('libs/')).map((project) => project.root);
    expect(libraries.filter((dir) => row(architecture, dir) === undefined)).toEqual([]);
  });
});

describe('JetStream streams and object store buckets', () => {
  /** What the contracts declare: `export const X_EVENT_STREAM = 'X_EVENTS'` and `X_BUCKET = '...'`. */
  const declared = readdirSync(path.join(root, 'libs/contracts')).flatMap((service) =>
    [...read(`libs/contracts/${service}/src/subjects.ts`).matchAll(/_(?:EVENT_STREAM|BUCKET) = '([^']+)'/g)].map(
      (match) => match[1],
    ),
  );

  it.each(['README.md', 'docs/architecture.md', 'docs/messaging.md'])('%s names every one', (file) => {
    expect(declared).toEqual(expect.arrayContaining(['PDS_EVENTS', 'N3_EVENTS', 'EPS_EVENTS', 'n3-imports']));
    const text = read(file);
    expect(declared.filter((name) => !text.includes(name))).toEqual([]);
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  it('states performance only by linking to docs/benchmarks.md, so the two cannot disagree', () => {
    expect(readme).toContain('](docs/benchmarks.md)');
    const figures =
      readme.match(/\bp(?:50|90|95|99)\b|\b\d[\d,.]*\s*(?:ms|s)\b|\/s\b|per second|of the baseline/gi) ?? [];
    expect(figures).toEqual([]);
  });

  it('says plainly which national applications are not built yet', () => {
    for (const name of ['e-referrals', 'gp2gp', 'nhsmail-relay']) expect(readme).toContain(name);
  });
});
