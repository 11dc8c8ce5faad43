// k8s/: the kustomize base (the chart rendered with default values, plus the namespace) and the dev and prod
// overlays. No kustomize binary is needed: manifests.ts builds the kustomizations with the subset of kustomize
// they use, and refuses anything else.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import { SERVICES } from '@platform/shared-catalogue';
import {
  buildKustomization,
  chartDir,
  k8sDir,
  ofKind,
  readKustomization,
  renderChart,
  repoRoot,
  run,
  schemaErrors,
  type K8sObject,
} from './manifests';

const OVERLAYS: Record<string, string> = { dev: 'values-dev.yaml', prod: 'values-prod.yaml' };

function kustomizationDirs(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  const here = entries.some((entry) => entry.isFile() && entry.name === 'kustomization.yaml') ? [dir] : [];
  return [
    ...here,
    ...entries.filter((entry) => entry.isDirectory()).flatMap((entry) => kustomizationDirs(path.join(dir, entry.name))),
  ];
}

/** Objects keyed by kind/namespace/name, with the managed-by label (Helm or kustomize) left out. */
function comparable(objects: K8sObject[]): Record<string, unknown> {
  const withoutManagedBy = (labels: unknown): unknown => {
    if (labels === null || typeof labels !== 'object') return labels;
    const { ['app.kubernetes.io/managed-by']: _managedBy, ...rest } = labels as Record<string, string>;
    return rest;
  };
  const byName = (a: unknown, b: unknown): number =>
    String((a as { name?: string }).name).localeCompare(String((b as { name?: string }).name));
  const strip = (node: unknown, field = ''): unknown => {
    // the order of environment variables is not significant here (none refers to another)
    if (Array.isArray(node))
      return field === 'env' ? node.map((item) => strip(item)).sort(byName) : node.map((item) => strip(item));
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>).map(([key, value]) => [
        key,
        key === 'labels' ? withoutManagedBy(strip(value)) : strip(value, key),
      ]),
    );
  };
  return Object.fromEntries(
    objects.map((object) => [
      `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
      strip(object),
    ]),
  );
}

describe('k8s kustomizations', () => {
  const dirs = kustomizationDirs(k8sDir).map((dir) => path.relative(repoRoot, dir));

  it('has a base and the dev and prod overlays', () => {
    expect(dirs.sort()).toEqual(['k8s/base', 'k8s/overlays/dev', 'k8s/overlays/prod']);
  });

  it('keeps k8s/base/platform.yaml equal to the current render of the chart', () => {
    const result = run(process.execPath, [path.join(k8sDir, 'render-base.mjs'), '--check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(dirs)('%s: every resource and patch exists and every patch matches exactly one object', (dir) => {
    const full = path.join(repoRoot, dir);
    const kustomization = readKustomization(full);
    expect(kustomization.resources?.length).toBeGreaterThan(0);
    // buildKustomization throws on a missing file and on a patch whose target matches no object or several
    expect(() => buildKustomization(full)).not.toThrow();
  });

  it.each(dirs)('%s: builds into manifests valid against the Kubernetes schemas, all in namespace platform', (dir) => {
    const objects = buildKustomization(path.join(repoRoot, dir));
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    const [namespace, ...rest] = objects;
    expect(namespace?.kind).toBe('Namespace');
    expect(namespace?.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(rest.every((object) => object.metadata.namespace === 'platform')).toBe(true);
    expect(rest.every((object) => object.metadata.labels?.['app.kubernetes.io/managed-by'] === 'kustomize')).toBe(true);
  });

  it('base: holds exactly the chart rendered with its default values', () => {
    const [, ...objects] = buildKustomization(path.join(k8sDir, 'base'));
    expect(comparable(objects)).toEqual(comparable(renderChart()));
  });

  it.each(Object.entries(OVERLAYS))(
    'overlay %s: deploys the same objects as helm with %s, so both routes agree',
    (overlay, valuesFile) => {
      const [, ...objects] = buildKustomization(path.join(k8sDir, 'overlays', overlay));
      expect(comparable(objects)).toEqual(comparable(renderChart([path.join(chartDir, valuesFile)])));
    },
  );

  it('overlays patch replicas (through the HPAs) and resources', () => {
    const resourcesOf = (objects: K8sObject[]): unknown =>
      ofKind<IDeployment>(objects, 'Deployment').map((d) => d.spec?.template.spec?.containers[0]?.resources);
    const minReplicasOf = (objects: K8sObject[]): unknown =>
      objects
        .filter((o) => o.kind === 'HorizontalPodAutoscaler')
        .map((o) => (o['spec'] as { minReplicas: number }).minReplicas);
    const base = buildKustomization(path.join(k8sDir, 'base'));
    const dev = buildKustomization(path.join(k8sDir, 'overlays/dev'));
    const prod = buildKustomization(path.join(k8sDir, 'overlays/prod'));
    // One HPA per process: the gateway and each service of the catalogue.
    const every = (replicas: number): number[] => Array.from({ length: SERVICES.length + 1 }, () => replicas);
    expect(minReplicasOf(base)).toEqual(every(2));
    expect(minReplicasOf(dev)).toEqual(every(1));
    expect(minReplicasOf(prod)).toEqual(every(3));
    expect(resourcesOf(dev)).not.toEqual(resourcesOf(base));
    expect(resourcesOf(prod)).not.toEqual(resourcesOf(base));
  });
});

describe('kustomization checks', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'platform-kustomize-'));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  function overlay(name: string, kustomization: string, files: Record<string, string> = {}): string {
    const dir = path.join(scratch, name);
    mkdirSync(dir);
    const base = path.relative(dir, path.join(k8sDir, 'base'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), kustomization.replace('BASE', base));
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
    return dir;
  }
  const header = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';

  it('refuses a missing resource', () => {
    const dir = overlay('missing-resource', `${header}resources:\n  - BASE\n  - nowhere.yaml\n`);
    expect(() => buildKustomization(dir)).toThrow(/resource nowhere.yaml does not exist/);
  });

  it('refuses a patch of an object that does not exist', () => {
    const dir = overlay('missing-target', `${header}resources:\n  - BASE\npatches:\n  - path: patch.yaml\n`, {
      'patch.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: platform-not-a-service\n  namespace: platform\nspec:\n  replicas: 1\n',
    });
    expect(() => buildKustomization(dir)).toThrow(/Deployment\/platform-not-a-service matches 0 objects/);
  });

  it('refuses a JSON patch whose test fails', () => {
    const dir = overlay(
      'failed-test',
      `${header}resources:\n  - BASE\npatches:\n  - path: patch.yaml\n    target:\n      kind: NetworkPolicy\n      name: platform-gateway\n`,
      { 'patch.yaml': '- op: test\n  path: /spec/egress/0/ports/0/port\n  value: 5432\n' },
    );
    expect(() => buildKustomization(dir)).toThrow(/test \/spec\/egress\/0\/ports\/0\/port failed/);
  });

  it('refuses kustomize features the tests cannot build', () => {
    const dir = overlay('unsupported', `${header}resources:\n  - BASE\nimages:\n  - name: x\n    newTag: '1'\n`);
    expect(() => buildKustomization(dir)).toThrow(/do not understand images/);
  });
});
