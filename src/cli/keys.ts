import { stringify } from 'yaml';
import { createApiKey } from '../auth/api-keys.ts';
import { API_KEY_ID, apiKeyEntrySchema } from '../auth/auth-config.ts';
import type { ScopeGrant } from '../auth/scope.ts';

/**
 * `switchyard keys create <id> [--backends a,b] [--projects 'org/*,team/**'] [--runners] [--expires ISO] [--description text]`
 *
 * Prints the key once (stdout; it is not stored anywhere) and the YAML entry
 * to paste under `auth.apiKeys` in the config. Exit codes: 0 ok, 2 usage.
 */

export interface KeysCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const KEYS_USAGE = `Usage:
  switchyard keys create <id> [--backends a,b] [--projects 'org/*,team-a/**'] [--runners] [--expires 2026-12-31T00:00:00Z] [--description text]

  <id>           lower-case letters, digits and dashes; public, appears in audit records
  --backends     backends the key may read (default: * = all)
  --projects     project patterns within them (default: all projects)
                 '*' = one path segment, '**' = any depth, e.g. 'octo-org/*'
  --runners      also show runners to a project-restricted key
  --expires      ISO-8601 instant after which the key is refused
  --description  free text (owner, purpose)
`;

function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export async function runKeysCli(argv: readonly string[], io: KeysCliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout)(KEYS_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'create') {
    io.stderr(`switchyard keys: unknown command "${command}"\n\n${KEYS_USAGE}`);
    return 2;
  }

  let id: string | undefined;
  let backends = ['*'];
  let projects: string[] | undefined;
  let runners: boolean | undefined;
  let expiresAt: string | undefined;
  let description: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : rest[++i]);
    switch (flag) {
      case '--backends': {
        const v = takeValue();
        if (v === undefined) return usage(io, '--backends needs a value');
        backends = splitList(v);
        break;
      }
      case '--projects': {
        const v = takeValue();
        if (v === undefined) return usage(io, '--projects needs a value');
        projects = splitList(v);
        break;
      }
      case '--runners':
        runners = true;
        break;
      case '--expires': {
        const v = takeValue();
        if (v === undefined) return usage(io, '--expires needs a value');
        expiresAt = v;
        break;
      }
      case '--description': {
        const v = takeValue();
        if (v === undefined) return usage(io, '--description needs a value');
        description = v;
        break;
      }
      default:
        if (arg.startsWith('-')) return usage(io, `unknown option ${arg}`);
        if (id !== undefined) return usage(io, `unexpected argument ${arg}`);
        id = arg;
    }
  }
  if (id === undefined) return usage(io, 'missing <id>');
  if (!API_KEY_ID.test(id)) return usage(io, `invalid id "${id}": expected lower-case letters, digits and dashes`);

  const grant: ScopeGrant = {
    backends,
    ...(projects && projects.length > 0 ? { projects } : {}),
    ...(runners !== undefined ? { runners } : {}),
  };
  const { key, hash } = await createApiKey(id);
  const entry = {
    id,
    hash,
    scopes: grant,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(description !== undefined ? { description } : {}),
  };
  // Validate what we are about to print exactly as the config loader will.
  const check = apiKeyEntrySchema.safeParse(entry);
  if (!check.success) {
    return usage(io, check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }

  io.stdout(
    `API key "${id}" (shown only now; store it in a secret manager, it cannot be recovered):\n\n` +
    `${key}\n\n` +
    `Add this entry under auth.apiKeys in the gateway config:\n\n` +
    stringify([entry], { lineWidth: 0 }),
  );
  return 0;
}

function usage(io: KeysCliIo, problem: string): number {
  io.stderr(`switchyard keys: ${problem}\n\n${KEYS_USAGE}`);
  return 2;
}
