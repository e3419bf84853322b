import type { GatewayConfig } from '../config/load-config.ts';
import { runCommandNode, type CliIo, type Command, type CommandGroup } from './command.ts';

function summary(file: string, config: GatewayConfig): string {
  const backends = config.backends.map((b) => `${b.name} (${b.provider})`).join(', ');
  const auth = config.auth.mode === 'open' ? 'auth OFF (mode: open)' : `auth required, ${config.auth.apiKeys.filter((k) => !k.revoked).length} API key(s)${config.auth.jwt ? ' + JWT' : ''}`;
  const history = !config.history.enabled ? 'history off' : config.history.url ? 'history on PostgreSQL' : `history on embedded PGlite${config.history.dataDir ? ` in ${config.history.dataDir}` : ' (in memory)'}`;
  return `${file}: ok: ${config.backends.length} backend(s): ${backends}; ${auth}; ${history}; events ${config.events.store}\n`;
}

/** `switchyard config check <file>`: exit 0 valid, 2 problems or usage. */
export const configCheckCommand: Command = {
  name: 'check',
  summary: "validate a config (every problem, secrets' variables included) without starting",
  description: 'Validates the config and checks that every { env: NAME } secret is set, without starting\nanything. Prints one line per problem (all of them, in one pass) and exits 2, or a summary\nand exits 0.',
  args: [{ name: 'file.yaml', help: 'the gateway config' }],
  example: 'switchyard config check switchyard.yaml',
  async run({ args, io, env }) {
    // Loaded here, not at start-up: the client commands need none of the gateway's modules.
    const [{ adapterFactories }, { configIssues, readConfigFile }, { ConfigError }] = await Promise.all([
      import('../adapters.ts'), import('../config/load-config.ts'), import('../errors.ts'),
    ]);
    const file = args[0]!;
    let raw: unknown;
    try {
      raw = readConfigFile(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const issue of error.issues) io.stderr(`${file}: ${issue}\n`);
      return 2;
    }
    const { issues, config } = configIssues(raw, adapterFactories, env);
    for (const issue of issues) io.stderr(`${file}: ${issue}\n`);
    if (!config) return 2;
    io.stdout(summary(file, config));
    return 0;
  },
};

export const configGroup: CommandGroup = { name: 'config', summary: 'gateway config tools', commands: [configCheckCommand] };

export function runConfigCli(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runCommandNode(configGroup, argv, { ...io, env }, 'switchyard config');
}
