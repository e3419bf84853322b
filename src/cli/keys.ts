import { stringify } from 'yaml';
import { createApiKey } from '../auth/api-keys.ts';
import { API_KEY_ID, apiKeyEntrySchema } from '../auth/auth-config.ts';
import type { ScopeGrant } from '../auth/scope.ts';
import { booleanOption, listOption, runCommandNode, stringOption, UsageError, type CliIo, type Command, type CommandGroup } from './command.ts';

/**
 * `switchyard keys create <id>`: prints the key once (stdout; it is not stored anywhere) and the
 * YAML entry to paste under `auth.apiKeys` in the config. Exit codes: 0 ok, 2 usage.
 */
export const keysCreateCommand: Command = {
  name: 'create',
  summary: 'create an API key (printed once) and its config entry',
  args: [{ name: 'id', help: 'lower-case letters, digits and dashes; public, appears in audit records' }],
  options: {
    backends: { type: 'string', placeholder: '<a,b>', help: 'backends the key may read (default: * = all)' },
    projects: { type: 'string', placeholder: '<patterns>', help: "project patterns within them (default: all projects); '*' = one path segment, '**' = any depth, e.g. 'octo-org/*'" },
    runners: { type: 'boolean', help: 'also show runners to a project-restricted key' },
    expires: { type: 'string', placeholder: '<ISO-8601>', help: 'instant after which the key is refused, e.g. 2026-12-31T00:00:00Z' },
    description: { type: 'string', placeholder: '<text>', help: 'free text (owner, purpose)' },
  },
  example: "switchyard keys create ci-bot --backends github-main --projects 'octo-org/*' --description 'dashboard'",
  async run({ values, args, io }) {
    const id = args[0]!;
    if (!API_KEY_ID.test(id)) throw new UsageError(`invalid id "${id}": expected lower-case letters, digits and dashes`);
    const projects = listOption(values, 'projects');
    const grant: ScopeGrant = {
      backends: listOption(values, 'backends') ?? ['*'],
      ...(projects ? { projects } : {}),
      ...(booleanOption(values, 'runners') ? { runners: true } : {}),
    };
    const expiresAt = stringOption(values, 'expires');
    const description = stringOption(values, 'description');
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
    if (!check.success) throw new UsageError(check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));

    io.stdout(
      `API key "${id}" (shown only now; store it in a secret manager, it cannot be recovered):\n\n` +
      `${key}\n\n` +
      `Add this entry under auth.apiKeys in the gateway config:\n\n` +
      stringify([entry], { lineWidth: 0 }),
    );
    return 0;
  },
};

export const keysGroup: CommandGroup = { name: 'keys', summary: 'API key tools', commands: [keysCreateCommand] };

export type KeysCliIo = CliIo;

export function runKeysCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommandNode(keysGroup, argv, io, 'switchyard keys');
}
