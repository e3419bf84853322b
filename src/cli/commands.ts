import { approveCommand, cancelCommand, rejectCommand, retryCommand, triggerCommand } from './actions.ts';
import { auditGroup } from './audit.ts';
import { stringOption, type Command, type CommandGroup, type Invocation } from './command.ts';
import { configGroup } from './config.ts';
import { DEFAULT_URL } from './connection.ts';
import { keysGroup } from './keys.ts';
import { jobsCommand, pipelinesCommand, poolsCommand, runnersCommand, statsCommand } from './lists.ts';
import { logsCommand } from './logs.ts';
import { watchCommand } from './watch.ts';

/** The table of every `switchyard` command: help, parsing and the --help test all read it. */

const CONFIG_OPTION = { config: { type: 'string', placeholder: '<file.yaml>', help: 'the gateway config (default: SWITCHYARD_CONFIG)' } } as const;

async function runGatewayCommand(inv: Invocation, requireConfig: boolean): Promise<number> {
  // Imported here: the client commands start without loading the gateway.
  const { runGateway } = await import('./run-gateway.ts');
  const config = stringOption(inv.values, 'config');
  await runGateway(config !== undefined ? ['--config', config] : [], { requireConfig });
  return -1; // the gateway keeps running until a signal
}

const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway for production (a config is required)',
  description: 'Exit codes: 2 on a config or start-up problem (one line each); 0 after SIGTERM or SIGINT closed it.',
  options: CONFIG_OPTION,
  example: 'switchyard serve --config /etc/switchyard/switchyard.yaml',
  run: (inv) => runGatewayCommand(inv, true),
};

const startCommand: Command = {
  name: 'start',
  summary: 'run the gateway (demo mode with simulated backends without a config)',
  description: 'PORT sets the port (default: server.port, 4000 in demo mode).',
  options: CONFIG_OPTION,
  example: 'switchyard start',
  run: (inv) => runGatewayCommand(inv, false),
};

const ROOT_FOOTER = `Connection (client commands):
  SWITCHYARD_URL       gateway URL (default ${DEFAULT_URL})
  SWITCHYARD_API_KEY   API key, sent as Authorization: Bearer
  SWITCHYARD_PROFILES  profile file (default ~/.config/switchyard/profiles.yaml); --profile <name>
                       or SWITCHYARD_PROFILE picks one, else its \`default\`

Exit codes: 0 ok, 1 failure (the gateway's error in one line, a refused action, a failed
pipeline with watch --exit-status), 2 usage.
`;

export const rootCommand: CommandGroup = {
  name: 'switchyard',
  summary: 'One live GraphQL API over GitHub Actions, GitLab CI and Jenkins: the gateway and its command-line client.',
  footer: ROOT_FOOTER,
  commands: [
    serveCommand, startCommand, configGroup, keysGroup, auditGroup,
    watchCommand, pipelinesCommand, jobsCommand, runnersCommand, poolsCommand, statsCommand, logsCommand,
    cancelCommand, retryCommand, triggerCommand, approveCommand, rejectCommand,
  ],
};
