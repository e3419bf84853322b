import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { authConfigSchema, unknownScopeBackends } from '../auth/auth-config.ts';
import { ConfigError } from '../errors.ts';
import type { ProviderKind } from '../model.ts';
import type { AdapterFactories } from '../providers.ts';
import { gatewayConfigSchema, type GatewayConfigBase } from './config-schema.ts';
import { formatZodIssues } from './format-issues.ts';
import { missingSecrets } from './missing-secrets.ts';

export interface BackendConfig {
  readonly name: string;
  readonly provider: ProviderKind;
  /** The adapter's validated config for this instance. */
  readonly options: unknown;
}

export interface GatewayConfig extends Omit<GatewayConfigBase, 'backends'> {
  readonly backends: readonly BackendConfig[];
}

export type { AdapterFactories } from '../providers.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Every problem of a parsed config in one pass: the gateway's own keys, each backend's options
 * (checked even when another part is wrong), then cross-checks on what was declared, so one
 * mistake is reported once and never as a cascade. With `env`, also every `{ env: NAME }`
 * secret whose variable is unset.
 */
export function configIssues(raw: unknown, factories: AdapterFactories, env?: NodeJS.ProcessEnv): { issues: string[]; config?: GatewayConfig } {
  const base = gatewayConfigSchema.safeParse(raw);
  const issues = base.success ? [] : formatZodIssues(base.error, raw, [], gatewayConfigSchema);
  const entries = isRecord(raw) && Array.isArray(raw.backends) ? raw.backends : [];
  const seen = new Set<string>();
  const backends: BackendConfig[] = [];
  entries.forEach((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.provider !== 'string') return; // the base schema said why
    const { name, provider, ...rest } = entry;
    if (seen.has(name)) issues.push(`backends[${i}].name: expected a unique name, received "${name}" a second time`);
    seen.add(name);
    const factory = Object.hasOwn(factories, provider) ? factories[provider] : undefined;
    if (!factory) {
      issues.push(`backends[${i}].provider: expected one of ${Object.keys(factories).map((k) => `"${k}"`).join(', ')} (available in this build), received "${provider}"`);
      return;
    }
    const parsed = factory.configSchema.safeParse(rest);
    if (!parsed.success) issues.push(...formatZodIssues(parsed.error, raw, ['backends', i], factory.configSchema));
    else backends.push({ name, provider: provider as ProviderKind, options: parsed.data });
  });
  // Scopes name backends as declared, whether or not that backend's options are valid.
  const auth = base.success ? base.data.auth : authConfigSchema.safeParse(isRecord(raw) ? raw.auth ?? {} : {}).data;
  if (auth) issues.push(...unknownScopeBackends(auth, [...seen]));
  if (env) issues.push(...missingSecrets(raw, env));
  return issues.length === 0 && base.success ? { issues, config: { ...base.data, backends } } : { issues };
}

/** Validates a parsed config object; `source` names the file in messages. */
export function validateConfig(raw: unknown, factories: AdapterFactories, source = 'config', env?: NodeJS.ProcessEnv): GatewayConfig {
  const { issues, config } = configIssues(raw, factories, env);
  if (!config) throw new ConfigError(issues, source);
  return config;
}

/** Reads and parses a YAML config file (not yet validated). */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`], path);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`not valid YAML: ${(error as Error).message.split('\n')[0]}`], path);
  }
  return raw;
}

/** Reads and validates a YAML config file; every `{ env: NAME }` secret must be set in `env`. */
export function loadConfigFile(path: string, factories: AdapterFactories, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return validateConfig(readConfigFile(path), factories, path, env);
}

/** `--config <file>` or `--config=<file>`, else SWITCHYARD_CONFIG; undefined means demo mode. */
export function configPathFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.SWITCHYARD_CONFIG || undefined;
}
