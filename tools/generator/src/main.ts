// `npm run new-service -- <name> --subject-prefix <p> --env-prefix <P> --port <n> [--stream <STREAM>] [--dry-run]`:
// creates a national-application service in PDS's shape (see tools/generator/README.md for what it writes).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runCommandLine } from '@platform/shared-config';
import { applyPlan } from './apply';
import { planService, Refusal } from './generate';
import { parseNewServiceCommandLine, type NewServiceCommand } from './options';

const ROOT = path.resolve(__dirname, '../../../..');

/** Runs a step of the repository's own tooling; true when it succeeded. */
function step(title: string, command: string, args: string[]): boolean {
  process.stdout.write(`${title}...\n`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0)
    process.stderr.write(`${title} failed: run \`${[path.basename(command), ...args].join(' ')}\`\n`);
  return result.status === 0;
}

async function main(command: NewServiceCommand): Promise<number> {
  const plan = planService(ROOT, command);
  const { names: n } = plan;
  const listing = [
    ...Object.keys(plan.created).map((file) => `  new      ${file}`),
    ...Object.keys(plan.changed).map((file) => `  changed  ${file}`),
  ].join('\n');
  if (command.dryRun) {
    process.stdout.write(`would create ${n.name}:\n${listing}\n  changed  k8s/base/platform.yaml, docs/openapi.json\n`);
    return 0;
  }
  await applyPlan(ROOT, plan);
  process.stdout.write(`created ${n.name}:\n${listing}\n`);
  // The kustomize base is the chart rendered; the OpenAPI document is built from the gateway's routes.
  const node = process.execPath;
  const rendered = step('rendering k8s/base/platform.yaml', node, ['k8s/render-base.mjs']);
  const built =
    step('building', node, ['tools/scripts/build.mjs', '--quiet']) &&
    step('writing docs/openapi.json', node, ['dist/apps/gateway/src/openapi.cli.js']);
  process.stdout.write(
    [
      '',
      'Next:',
      ...(rendered ? [] : ['  node k8s/render-base.mjs']),
      ...(built ? [] : ['  npm run openapi']),
      '  npm run typecheck && npm run lint',
      `  npx jest --selectProjects unit --testPathPatterns '${n.contractsDir}|deploy/tests|libs/shared/catalogue'`,
      `  npx jest --selectProjects integration --runInBand --testPathPatterns ${n.appDir}/`,
      `  replace the example item feature with ${n.name}'s own, and set the gateway roles in apps/gateway/src/${n.name}/`,
      `  by hand: docs/architecture.md (processes, configuration, projects and tags), deploy/README.md,`,
      `  tools/lint/docs.spec.ts (the README/config pairs), docs/runbooks/${n.name}.md`,
      '',
    ].join('\n'),
  );
  return rendered && built ? 0 : 1;
}

runCommandLine(parseNewServiceCommandLine(process.argv.slice(2)), main, (error) =>
  error instanceof Refusal
    ? `new-service: refused, nothing written:\n${error.message
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n')}`
    : `new-service: ${error instanceof Error ? error.message : String(error)}`,
);
