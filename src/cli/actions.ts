import { booleanOption, listOption, stringOption, UsageError, type Command, type Invocation, type OptionSpec } from './command.ts';
import { withClient } from './client-command.ts';
import { CONNECTION_OPTIONS } from './connection.ts';
import { statusText } from './format.ts';
import { CliError, type GatewayClient } from './gateway-client.ts';
import { resolveProject } from './projects.ts';

/**
 * `switchyard cancel | retry | trigger | approve | reject`: the mutations of schema/actions.graphql
 * (ACTIONS.md), one each. A refusal is a typed entry of the payload's `errors`: printed one per
 * line, exit 1. The API key needs an `actions` grant.
 */

const PAYLOAD = 'dryRun replayed errors { code message backend input upstreamStatus } upstream { backend { name } calls { method path status } }';
const PIPELINE = 'pipeline { id status number attempt url project { fullName } }';
const JOB = 'job { id name status attempt url }';

interface Payload {
  dryRun: boolean; replayed: boolean;
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline?: { id: string; status: string; number: number | null; attempt: number; url: string | null; project: { fullName: string } } | null;
  job?: { id: string; name: string; status: string; attempt: number; url: string | null } | null;
}

const COMMON: Readonly<Record<string, OptionSpec>> = {
  'dry-run': { type: 'boolean', help: 'check permission and input and show the upstream calls, sending no write' },
  'idempotency-key': { type: 'string', placeholder: '<key>', help: 'the same key and input within 24 hours acts once (safe to re-run)' },
  json: { type: 'boolean', help: 'print the payload as one JSON line' },
  ...CONNECTION_OPTIONS,
};

const INPUT: OptionSpec = { type: 'string', multiple: true, placeholder: '<name=value>', help: 'an input (repeat); a value that reads as JSON true/false/a number is sent typed, else as text' };

/** `name=value`: `3` and `true` are typed as JSON would write them, anything else is a string. */
function inputs(inv: Invocation): { name: string; value: string | number | boolean }[] {
  const raw = inv.values.input;
  return (Array.isArray(raw) ? raw : []).map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input needs name=value, received ${JSON.stringify(entry)}`);
    const text = entry.slice(eq + 1);
    let value: string | number | boolean = text;
    if (/^(true|false|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(text)) value = JSON.parse(text) as number | boolean;
    return { name: entry.slice(0, eq), value };
  });
}

function common(inv: Invocation): Record<string, unknown> {
  const key = stringOption(inv.values, 'idempotency-key');
  return { dryRun: booleanOption(inv.values, 'dry-run'), ...(key ? { idempotencyKey: key } : {}) };
}

async function typeOf(client: GatewayClient, id: string): Promise<'Pipeline' | 'Job'> {
  const { node } = await client.query<{ node: { __typename: string } | null }>('query($id: ID!) { node(id: $id) { __typename } }', { id });
  if (node?.__typename === 'Pipeline' || node?.__typename === 'Job') return node.__typename;
  throw new CliError(node ? `${id} is a ${node.__typename}, not a pipeline or job` : `no pipeline or job ${id} (unknown id, or not visible to this API key)`);
}

async function act(inv: Invocation, client: GatewayClient, mutation: string, input: Record<string, unknown>, entity: string): Promise<number> {
  const data = await client.query<Record<string, Payload>>(
    `mutation($input: ${inputType[mutation]}!) { ${mutation}(input: $input) { ${PAYLOAD} ${entity} } }`, { input },
  );
  const payload = data[mutation]!;
  if (booleanOption(inv.values, 'json')) {
    inv.io.stdout(`${JSON.stringify(payload)}\n`);
    return payload.errors.length > 0 ? 1 : 0;
  }
  for (const e of payload.errors) {
    inv.io.stderr(`switchyard: ${mutation} refused: ${e.code}: ${e.message}${e.upstreamStatus ? ` (upstream HTTP ${e.upstreamStatus})` : ''}\n`);
  }
  if (payload.errors.length === 0) inv.io.stdout(`${mutation}: ${payload.dryRun ? 'dry run ok, nothing sent' : 'ok'}${payload.replayed ? ' (replayed: the first outcome of this idempotency key)' : ''}\n`);
  for (const call of payload.upstream?.calls ?? []) inv.io.stdout(`  ${payload.upstream!.backend.name}: ${call.method} ${call.path}${call.status !== null ? ` → ${call.status}` : ''}\n`);
  const p = payload.pipeline;
  if (p) inv.io.stdout(`pipeline ${p.project.fullName}${p.number !== null ? ` #${p.number}` : ''}${p.attempt > 1 ? ` attempt ${p.attempt}` : ''}: ${statusText(p.status)}  ${p.id}\n`);
  const j = payload.job;
  if (j) inv.io.stdout(`job ${j.name}${j.attempt > 1 ? ` attempt ${j.attempt}` : ''}: ${statusText(j.status)}  ${j.id}\n`);
  return payload.errors.length > 0 ? 1 : 0;
}

const inputType: Record<string, string> = {
  cancelPipeline: 'CancelPipelineInput', cancelJob: 'CancelJobInput', retryPipeline: 'RetryPipelineInput', retryJob: 'RetryJobInput',
  triggerPipeline: 'TriggerPipelineInput', approve: 'ApprovalInput', reject: 'ApprovalInput',
};

const ID_ARG = [{ name: 'id', help: 'a pipeline or job (global id)' }];
const EXIT = 'Exit codes: 0 done, 1 refused (each error printed) or another error, 2 usage.';

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a pipeline, or one job',
  description: EXIT,
  args: ID_ARG,
  options: { force: { type: 'boolean', help: 'ask GitHub or GitLab to force-cancel' }, ...COMMON },
  example: 'switchyard cancel UGlwZWxpbmU6Z2g6b2N0by1vcmcvYXBpL3J1bnMvNw',
  run: (inv) => withClient(inv, async (client) => {
    const id = inv.args[0]!;
    const kind = await typeOf(client, id);
    const input = { id, force: booleanOption(inv.values, 'force'), ...common(inv) };
    return kind === 'Pipeline' ? act(inv, client, 'cancelPipeline', input, PIPELINE) : act(inv, client, 'cancelJob', input, JOB);
  }),
};

export const retryCommand: Command = {
  name: 'retry',
  summary: 're-run a pipeline (all its jobs, or --failed-only), or one job',
  description: EXIT,
  args: ID_ARG,
  options: { 'failed-only': { type: 'boolean', help: 'a pipeline: re-run only the jobs that failed' }, ...COMMON },
  example: 'switchyard retry UGlwZWxpbmU6Z2g6b2N0by1vcmcvYXBpL3J1bnMvNw --failed-only',
  run: (inv) => withClient(inv, async (client) => {
    const id = inv.args[0]!;
    const kind = await typeOf(client, id);
    if (kind === 'Job' && booleanOption(inv.values, 'failed-only')) throw new UsageError('--failed-only applies to a pipeline, not a job');
    return kind === 'Pipeline'
      ? act(inv, client, 'retryPipeline', { id, failedOnly: booleanOption(inv.values, 'failed-only'), ...common(inv) }, PIPELINE)
      : act(inv, client, 'retryJob', { id, ...common(inv) }, JOB);
  }),
};

export const triggerCommand: Command = {
  name: 'trigger',
  summary: 'start a pipeline on a branch or tag, with typed inputs',
  description: EXIT,
  options: {
    project: { type: 'string', placeholder: '<fullName|id>', help: 'the project, e.g. octo-org/api (required)' },
    ref: { type: 'string', placeholder: '<ref>', help: 'branch or tag to run on (required)' },
    workflow: { type: 'string', placeholder: '<file>', help: 'GitHub: the workflow to dispatch, e.g. deploy.yml' },
    backend: { type: 'string', placeholder: '<name>', help: 'the backend, when the project name is on several' },
    input: INPUT,
    ...COMMON,
  },
  example: 'switchyard trigger --project octo-org/api --ref main --workflow deploy.yml --input environment=staging',
  run: (inv) => {
    const project = stringOption(inv.values, 'project');
    const ref = stringOption(inv.values, 'ref');
    if (!project || !ref) throw new UsageError('trigger needs --project and --ref');
    const entries = inputs(inv);
    return withClient(inv, async (client) => {
      const projectId = await resolveProject(client, project, listOption(inv.values, 'backend'));
      const workflow = stringOption(inv.values, 'workflow');
      return act(inv, client, 'triggerPipeline', { project: projectId, ref, inputs: entries, ...(workflow ? { workflow } : {}), ...common(inv) }, PIPELINE);
    });
  },
};

function approval(name: 'approve' | 'reject', summary: string, example: string): Command {
  return {
    name,
    summary,
    description: EXIT,
    args: [{ name: 'id', help: 'a pipeline (GitHub run waiting for a review, Jenkins input step) or job (GitLab manual job)' }],
    options: { comment: { type: 'string', placeholder: '<text>', help: 'a comment for the provider' }, ...(name === 'approve' ? { input: INPUT } : {}), ...COMMON },
    example,
    run: (inv) => {
      const entries = inputs(inv);
      return withClient(inv, (client) => {
        const comment = stringOption(inv.values, 'comment');
        return act(inv, client, name, { id: inv.args[0]!, inputs: entries, ...(comment ? { comment } : {}), ...common(inv) }, `${PIPELINE} ${JOB}`);
      });
    },
  };
}

export const approveCommand = approval('approve', 'approve waiting work: a GitHub deployment review, a GitLab manual job, a Jenkins input step',
  'switchyard approve UGlwZWxpbmU6Z2g6b2N0by1vcmcvYXBpL3J1bnMvNw --comment "ship it"');
export const rejectCommand = approval('reject', 'reject waiting work: a GitHub deployment review, a Jenkins input step',
  'switchyard reject UGlwZWxpbmU6Z2g6b2N0by1vcmcvYXBpL3J1bnMvNw --comment "not today"');
