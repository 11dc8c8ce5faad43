import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  addPathAlias,
  insertAfterLast,
  insertBeforeFirst,
  insertBeforeMarker,
  Refusal,
  refuseIfPresent,
} from './edits';
import { namesOf, type ServiceNames, type ServiceOptions } from './names';
import { appFiles } from './templates/app';
import { contractsFiles } from './templates/contracts';
import { envBlock, valuesBlock } from './templates/deploy';
import { gatewayFiles, gatewayReadmeSection, messagingSection } from './templates/gateway';

export { Refusal } from './edits';

/** The markers the generator inserts at. */
export const MARKERS = {
  catalogue: '// service-generator: new entries above this line',
  gatewayControllers: '// service-generator: controllers',
  gatewayProviders: '// service-generator: providers',
} as const;

/** The service whose kustomize overlay patches a new service copies (same values block shape). */
const OVERLAY_MODEL = 'eps';
/** Launcher label colours not taken by the first services. */
const COLOURS = ['35', '33', '31', '95', '96', '94', '92', '93', '91', '90'];
/** Ports the platform's other processes and infrastructure listen on locally. */
const RESERVED_PORTS = [4222, 5432, 8080, 8081, 54329];

export interface Plan {
  names: ServiceNames;
  /** New files, relative to the root. */
  created: Record<string, string>;
  /** Existing files, relative to the root, with their new text. */
  changed: Record<string, string>;
}

/** What the catalogue (libs/shared/catalogue/src/services.ts) already holds, read as text. */
function catalogued(text: string, field: string): string[] {
  return [...text.matchAll(new RegExp(`^\\s+${field}: '?([^',]+)'?,$`, 'gm'))].map((match) => match[1]);
}

/**
 * Works out every file to write and every edit, refusing (all problems at once, nothing written) when the
 * service or any of its names, prefixes, port or stream is already taken, or an anchor is missing.
 */
export function planService(root: string, options: ServiceOptions, migrationTimestamp = Date.now()): Plan {
  const n = namesOf(options);
  const problems: string[] = [];
  const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
  const attempt = (work: () => void): void => {
    try {
      work();
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      problems.push(error.message);
    }
  };

  const catalogueFile = 'libs/shared/catalogue/src/services.ts';
  const catalogue = read(catalogueFile);
  const taken: [string, string, string][] = [
    ['name', n.name, 'the name'],
    ['name', n.subjectPrefix, 'a service named like the subject prefix'],
    ['subjectPrefix', n.subjectPrefix, 'the subject prefix'],
    ['envPrefix', n.envPrefix, 'the variable prefix'],
    ['schema', n.schema, 'the schema'],
    ['healthPort', String(n.port), 'the health port'],
    ['eventStream', n.stream, 'the event stream'],
  ];
  for (const [field, value, what] of taken) {
    if (catalogued(catalogue, field).includes(value)) problems.push(`the catalogue already has ${what} ${value}`);
  }
  if (RESERVED_PORTS.includes(n.port)) problems.push(`port ${n.port} is taken by the platform's infrastructure`);
  if (['gateway', 'identity-provider', 'platform-e2e', 'launcher', 'bench', 'generator'].includes(n.name)) {
    problems.push(`${n.name} is the name of another project`);
  }

  const created: Record<string, string> = {
    ...appFiles(n, migrationTimestamp),
    ...contractsFiles(n),
    ...gatewayFiles(n),
  };
  for (const dir of [n.appDir, n.contractsDir, `apps/gateway/src/${n.name}`]) {
    if (existsSync(path.join(root, dir))) problems.push(`${dir} already exists`);
  }

  const changed: Record<string, string> = {};
  const edit = (file: string, change: (text: string) => string): void =>
    attempt(() => {
      changed[file] = change(changed[file] ?? read(file));
    });

  edit(catalogueFile, (text) => {
    const used = catalogued(text, 'colour');
    const colour = COLOURS.find((candidate) => !used.includes(candidate)) ?? '37';
    const entry = [
      '  {',
      `    name: '${n.name}',`,
      `    subjectPrefix: '${n.subjectPrefix}',`,
      `    envPrefix: '${n.envPrefix}',`,
      `    schema: '${n.schema}',`,
      `    healthPort: ${n.port},`,
      `    entry: 'apps/${n.name}/src/main.js',`,
      '    sandboxSeed: false,',
      `    eventStream: '${n.stream}',`,
      // Its events: only it may publish them (the catalogue test holds this list to the contracts).
      `    events: ['${n.events.itemCreated}'],`,
      // The request subjects of other services it calls (its NATS user may publish those and no others).
      '    calls: [],',
      `    colour: '${colour}',`,
      '  },',
    ].join('\n');
    return insertBeforeMarker(text, MARKERS.catalogue, entry, catalogueFile);
  });

  edit('tsconfig.json', (text) => addPathAlias(text, n.contractsAlias, `${n.contractsDir}/src/index.ts`));

  edit('eslint.config.mjs', (text) => {
    refuseIfPresent(text, `sourceTag: 'scope:${n.name}'`, 'eslint.config.mjs', `a rule for scope:${n.name}`);
    // The last service rule: `{ sourceTag: 'scope:x', onlyDependOnLibsWithTags: ['scope:x', 'scope:shared', 'type:contracts'] },`
    return insertAfterLast(
      text,
      /^\s*\{ sourceTag: 'scope:[a-z0-9-]+', onlyDependOnLibsWithTags: \['scope:[a-z0-9-]+', 'scope:shared', 'type:contracts'\] \},$/,
      `  { sourceTag: 'scope:${n.name}', onlyDependOnLibsWithTags: ['scope:${n.name}', 'scope:shared', 'type:contracts'] },`,
      'eslint.config.mjs',
    );
  });

  const moduleFile = 'apps/gateway/src/gateway.module.ts';
  edit(moduleFile, (text) => {
    refuseIfPresent(text, `./${n.name}/${n.name}.controller`, moduleFile, `the ${n.name} routes`);
    let result = insertAfterLast(
      text,
      /^import .* from '[^']+';$/,
      [
        `import { ${n.pascal}Client } from '${n.contractsAlias}';`,
        `import { ${n.constant}_CLIENT, ${n.pascal}Controller } from './${n.name}/${n.name}.controller';`,
      ].join('\n'),
      moduleFile,
    );
    result = insertBeforeMarker(result, MARKERS.gatewayControllers, `        ${n.pascal}Controller,`, moduleFile);
    return insertBeforeMarker(
      result,
      MARKERS.gatewayProviders,
      `        { provide: ${n.constant}_CLIENT, useValue: new ${n.pascal}Client(rpc) },`,
      moduleFile,
    );
  });

  const gatewayReadme = 'apps/gateway/README.md';
  edit(gatewayReadme, (text) => {
    refuseIfPresent(text, `(\`/${n.name}\`)`, gatewayReadme, `a section for /${n.name}`);
    return insertBeforeFirst(text, /^### Public$/, gatewayReadmeSection(n), gatewayReadme);
  });

  edit('.env.example', (text) => {
    refuseIfPresent(text, new RegExp(`^# ${n.envPrefix}_HTTP_PORT=`, 'm'), '.env.example', `${n.envPrefix}_HTTP_PORT`);
    const all = text.split('\n');
    const header = all.findIndex((line) => line.startsWith('# Local identity provider'));
    // Before the rule above the identity provider's block, so the services' blocks stay together.
    if (header > 0 && all[header - 1].startsWith('# ---')) {
      return [
        ...all.slice(0, header - 1),
        ...envBlock(n).replace(/\n$/, '').split('\n'),
        ...all.slice(header - 1),
      ].join('\n');
    }
    return `${text.replace(/\n*$/, '\n\n')}${envBlock(n)}`;
  });

  const valuesFile = 'deploy/charts/platform/values.yaml';
  edit(valuesFile, (text) => {
    refuseIfPresent(text, new RegExp(`^ {2}${n.name}:$`, 'm'), valuesFile, `a services block for ${n.name}`);
    const all = text.replace(/\n*$/, '').split('\n');
    const services = all.indexOf('services:');
    if (services < 0) throw new Refusal(`${valuesFile}: no top-level services: block`);
    const next = all.findIndex((line, index) => index > services && /^\S/.test(line));
    const end = next < 0 ? all.length : next;
    return (
      [...all.slice(0, end), ...valuesBlock(n).replace(/\n$/, '').split('\n'), ...all.slice(end)].join('\n') + '\n'
    );
  });

  for (const overlay of ['k8s/overlays/dev', 'k8s/overlays/prod']) {
    const kustomization = `${overlay}/kustomization.yaml`;
    edit(kustomization, (text) => {
      refuseIfPresent(text, `-${n.name}.yaml`, kustomization, `patches for ${n.name}`);
      let result = text;
      const modelFiles = readdirSync(path.join(root, overlay)).filter((file) =>
        file.endsWith(`-${OVERLAY_MODEL}.yaml`),
      );
      for (const modelFile of modelFiles) {
        const kind = modelFile.slice(0, -`-${OVERLAY_MODEL}.yaml`.length);
        const file = `${kind}-${n.name}.yaml`;
        const copy = renamed(read(`${overlay}/${modelFile}`), n.name);
        if (/\beps\b/.test(copy.replace(/(^|\n)#[^\n]*/g, ''))) {
          throw new Refusal(`${overlay}/${modelFile}: cannot tell which of its words name ${OVERLAY_MODEL}`);
        }
        created[`${overlay}/${file}`] = copy;
        if (existsSync(path.join(root, overlay, file))) problems.push(`${overlay}/${file} already exists`);
        // The model's entry in the list (with its target lines), renamed, after the last entry of its kind.
        const all = result.split('\n');
        const start = all.findIndex((line) => line.trim() === `- path: ${modelFile}`);
        if (start < 0) continue;
        let end = start + 1;
        while (end < all.length && /^\s{4,}\S/.test(all[end])) end += 1;
        const entry = renamed(all.slice(start, end).join('\n'), n.name);
        result = insertAfterLast(result, new RegExp(`^\\s*- path: ${kind}-[a-z0-9-]+\\.yaml$`), entry, kustomization, {
          block: true,
        });
      }
      // The list of Secrets created outside the repository, where an overlay names them.
      return result.replace(
        `${OVERLAY_MODEL}-database, platform-gateway-tls`,
        `${OVERLAY_MODEL}-database, ${n.name}-database, platform-gateway-tls`,
      );
    });
  }

  const messaging = 'docs/messaging.md';
  edit(messaging, (text) => {
    refuseIfPresent(
      text,
      new RegExp(`\`${n.subjectPrefix}\\.[a-z0-9-]+\\.`),
      messaging,
      `subjects under ${n.subjectPrefix}.`,
    );
    const anchor = /^Besides the codes a service returns/;
    if (text.split('\n').some((line) => anchor.test(line))) {
      return insertBeforeFirst(text, anchor, messagingSection(n), messaging);
    }
    return insertBeforeFirst(text, /^## Delivery guarantee$/, messagingSection(n), messaging);
  });

  if (problems.length > 0) throw new Refusal(problems.join('\n'));
  return { names: n, created, changed };
}

/** A model service's overlay text for another service: `platform-eps` and `- name: eps` renamed. */
function renamed(text: string, name: string): string {
  return text
    .replaceAll(`platform-${OVERLAY_MODEL}`, `platform-${name}`)
    .replaceAll(`-${OVERLAY_MODEL}.yaml`, `-${name}.yaml`)
    .replace(new RegExp(`(- name: )${OVERLAY_MODEL}$`, 'gm'), `$1${name}`);
}
