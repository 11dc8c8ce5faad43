/** What `npm run new-service` is asked for. */
export interface ServiceOptions {
  /** Project name, kebab-case: the Nx project, queue group, Helm block and app.kubernetes.io/name. */
  name: string;
  /** First word of every subject (`pds` in `pds.patient.get.v1`); also the contracts folder and alias. */
  subjectPrefix: string;
  /** Prefix of the service's environment variables (`PDS` in `PDS_HTTP_PORT`). */
  envPrefix: string;
  /** Port of /health/*, /metrics. */
  port: number;
  /** JetStream stream of its events. */
  stream: string;
}

export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const ENV_PREFIX_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
export const STREAM_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Every spelling of the service the templates need, derived once from the options. */
export interface ServiceNames extends ServiceOptions {
  /** `WidgetsDesk`: classes (WidgetsDeskModule, WidgetsDeskClient). */
  pascal: string;
  /** `widgetsDesk`: variables. */
  camel: string;
  /** `WIDGETS_DESK`: Nest tokens (WIDGETS_DESK_DATABASE, WIDGETS_DESK_CLIENT). */
  constant: string;
  /** `Widgets desk`: prose. */
  title: string;
  /** PostgreSQL schema: the subject prefix with `_` for `-`. */
  schema: string;
  /** `@platform/contracts-<prefix>`. */
  contractsAlias: string;
  /** `libs/contracts/<prefix>`. */
  contractsDir: string;
  /** `apps/<name>`. */
  appDir: string;
  /** `<prefix>.config.ts` / `<prefix>.config`. */
  configModule: string;
  /** The example entity's subjects and event. */
  subjects: { itemCreate: string; itemGet: string; healthCheck: string };
  events: { itemCreated: string };
  /** The example's not-found code: `<ENV_PREFIX>_ITEM_NOT_FOUND` (error codes are one registry, platform-wide). */
  notFoundCode: string;
  /** The service's own code system for its problem details. */
  codeSystem: string;
}

function words(name: string): string[] {
  return name.split('-');
}

export function namesOf(options: ServiceOptions): ServiceNames {
  const parts = words(options.name);
  const pascal = parts.map((part) => part[0].toUpperCase() + part.slice(1)).join('');
  const title = parts.join(' ');
  const p = options.subjectPrefix;
  return {
    ...options,
    pascal,
    camel: pascal[0].toLowerCase() + pascal.slice(1),
    constant: parts.join('_').toUpperCase(),
    title: title[0].toUpperCase() + title.slice(1),
    schema: p.replace(/-/g, '_'),
    contractsAlias: `@platform/contracts-${p}`,
    contractsDir: `libs/contracts/${p}`,
    appDir: `apps/${options.name}`,
    configModule: `${p}.config`,
    subjects: { itemCreate: `${p}.item.create.v1`, itemGet: `${p}.item.get.v1`, healthCheck: `${p}.health.check.v1` },
    events: { itemCreated: `${p}.item.created.v1` },
    notFoundCode: `${options.envPrefix}_ITEM_NOT_FOUND`,
    codeSystem: `urn:nhs-platform:${options.name}:error-code`,
  };
}
