import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { unknownScopeBackends } from '../auth/auth-config.ts';
import { ConfigError } from '../errors.ts';
import type { ProviderKind } from '../model.ts';
import type { AdapterFactories } from '../providers.ts';
import { gatewayConfigSchema, type GatewayConfigBase } from './config-schema.ts';
import { formatZodIssues } from './format-issues.ts';

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

/** Validates a parsed config object; `source` names the file in messages. */
export function validateConfig(raw: unknown, factories: AdapterFactories, source = 'config'): GatewayConfig {
  const base = gatewayConfigSchema.safeParse(raw);
  if (!base.success) throw new ConfigError(formatZodIssues(base.error, raw), source);
  const issues: string[] = [];
  const seen = new Set<string>();
  const backends: BackendConfig[] = [];
  base.data.backends.forEach((entry, i) => {
    const { name, provider, ...rest } = entry;
    if (seen.has(name)) issues.push(`backends[${i}].name: expected a unique name, received "${name}" a second time`);
    seen.add(name);
    const factory = Object.hasOwn(factories, provider) ? factories[provider] : undefined;
    if (!factory) {
      issues.push(`backends[${i}].provider: expected one of ${Object.keys(factories).map((k) => `"${k}"`).join(', ')} (available in this build), received "${provider}"`);
      return;
    }
    const parsed = factory.configSchema.safeParse(rest);
    if (!parsed.success) {
      issues.push(...formatZodIssues(parsed.error, raw, ['backends', i]));
      return;
    }
    backends.push({ name, provider, options: parsed.data });
  });
  issues.push(...unknownScopeBackends(base.data.auth, backends.map((b) => b.name)));
  if (issues.length > 0) throw new ConfigError(issues, source);
  return { ...base.data, backends };
}

/** Reads and validates a YAML config file. */
export function loadConfigFile(path: string, factories: AdapterFactories): GatewayConfig {
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
  return validateConfig(raw, factories, path);
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
