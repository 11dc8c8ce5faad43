import { readFileSync } from 'node:fs';
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
