import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { stringOption, UsageError, type OptionSpec, type OptionValues } from './command.ts';
import { CliError } from './gateway-client.ts';

/**
 * Where the client commands find the gateway and the API key:
 *   1. --url, else (with --profile) the named profile, else SWITCHYARD_URL, else the profile named by
 *      SWITCHYARD_PROFILE or the file's `default`, else http://127.0.0.1:4000 (the gateway's default port);
 *   2. SWITCHYARD_API_KEY, unless --profile names a profile that sets a key; else the profile's key.
 * The profile file is $SWITCHYARD_PROFILES or ~/.config/switchyard/profiles.yaml:
 *   default: prod
 *   profiles:
 *     prod: { url: https://ci-gateway.example.com, apiKeyEnv: PROD_SWITCHYARD_KEY }
 *     local: { url: http://127.0.0.1:4000 }
 * A key on the command line would show in `ps`: there is no --api-key.
 */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

export const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: { type: 'string', placeholder: '<url>', help: `gateway URL (default: SWITCHYARD_URL, the profile, or ${DEFAULT_URL})` },
  profile: { type: 'string', placeholder: '<name>', help: 'profile of ~/.config/switchyard/profiles.yaml (or $SWITCHYARD_PROFILES)' },
};

export interface Connection {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  readonly graphqlUrl: string;
  readonly apiKey: string | undefined;
}

interface Profile {
  readonly url?: string;
  readonly apiKey?: string;
  readonly apiKeyEnv?: string;
}

export function profilesPath(env: NodeJS.ProcessEnv): string {
  if (env.SWITCHYARD_PROFILES) return env.SWITCHYARD_PROFILES;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'switchyard', 'profiles.yaml');
}

function readProfiles(path: string, required: boolean): { default?: string; profiles: Record<string, Profile> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required) return { profiles: {} };
    throw new CliError(`${path}: cannot read the profile file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new CliError(`${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const file = (doc ?? {}) as { default?: unknown; profiles?: unknown };
  if (typeof file !== 'object' || (file.profiles !== undefined && (typeof file.profiles !== 'object' || file.profiles === null))) {
    throw new CliError(`${path}: expected a mapping with \`profiles: { name: { url, apiKeyEnv } }\``);
  }
  return { ...(typeof file.default === 'string' ? { default: file.default } : {}), profiles: (file.profiles ?? {}) as Record<string, Profile> };
}

function profileKey(profile: Profile | undefined, name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!profile) return undefined;
  if (profile.apiKeyEnv) {
    const key = env[profile.apiKeyEnv];
    if (!key) throw new CliError(`profile ${name}: apiKeyEnv ${profile.apiKeyEnv} is not set`);
    return key;
  }
  return profile.apiKey || undefined;
}

export function resolveConnection(values: OptionValues, env: NodeJS.ProcessEnv): Connection {
  const chosen = stringOption(values, 'profile');
  const path = profilesPath(env);
  const file = readProfiles(path, chosen !== undefined);
  const name = chosen ?? env.SWITCHYARD_PROFILE ?? file.default;
  const profile = name === undefined ? undefined : file.profiles[name];
  if (name !== undefined && profile === undefined && (chosen !== undefined || env.SWITCHYARD_PROFILE)) {
    throw new UsageError(`no profile ${JSON.stringify(name)} in ${path} (profiles: ${Object.keys(file.profiles).join(', ') || 'none'})`);
  }
  const explicit = chosen !== undefined;
  const url = stringOption(values, 'url') ?? (explicit ? profile?.url : undefined) ?? (env.SWITCHYARD_URL || undefined) ?? profile?.url ?? DEFAULT_URL;
  const key = explicit ? profileKey(profile, name!, env) ?? (env.SWITCHYARD_API_KEY || undefined) : (env.SWITCHYARD_API_KEY || undefined) ?? profileKey(profile, name ?? '', env);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`the gateway URL must be http or https, received ${JSON.stringify(url)}`);
  // A base URL gets the gateway's GraphQL path; a URL that names an endpoint is used as given.
  const graphqlUrl = parsed.pathname === '/' || parsed.pathname === '' ? new URL('/graphql', parsed).href : parsed.href;
  return { graphqlUrl, apiKey: key };
}
