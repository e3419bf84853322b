import { booleanOption, listOption, stringOption, UsageError, type Command, type Invocation } from './command.ts';
import { withClient } from './client-command.ts';
import { CONNECTION_OPTIONS } from './connection.ts';
import { FAILED } from './format.ts';
import { CliError, type GatewayClient, type Subscription } from './gateway-client.ts';
import { resolveProject } from './projects.ts';
import { JOB_FIELDS, PIPELINE_FIELDS, PipelineTree, type JobView, type PipelineView } from './watch-tree.ts';

/**
 * `switchyard watch`: a live tree of one pipeline from the public API. The subscriptions
 * (pipelineUpdated by id, jobUpdated by pipeline) are sent before the snapshot query, and the
 * snapshot goes over the same socket after them, so a transition between the two is not lost;
 * events are applied over the snapshot in order. After a dropped connection (graphql-ws
 * reconnects and resubscribes) the snapshot is read again.
 */

const SNAPSHOT = `query($id: ID!) { node(id: $id) { __typename ... on Pipeline { ${PIPELINE_FIELDS} jobs(first: 50) { nodes { ${JOB_FIELDS} } } } } }`;
type Snapshot = { node: (PipelineView & { __typename: string; jobs: { nodes: JobView[] } }) | null };

async function latestPipeline(client: GatewayClient, inv: Invocation): Promise<string> {
  const backends = listOption(inv.values, 'backend');
  const project = stringOption(inv.values, 'project');
  const branch = stringOption(inv.values, 'branch');
  const commit = stringOption(inv.values, 'commit')?.toLowerCase();
  const filter = { backends, projects: project ? [await resolveProject(client, project, backends)] : undefined, branch };
  const matches = (p: { commitSha: string | null }) => !commit || (p.commitSha ?? '').toLowerCase().startsWith(commit);
  // Subscribed first: a pipeline created while the query runs is still seen.
  let found: (id: string) => void = () => undefined;
  const created = new Promise<string>((resolve) => (found = resolve));
  const sub = client.subscribe<{ pipelineUpdated: { pipeline: { id: string; commitSha: string | null } } }>(
    'subscription($f: PipelineFilter) { pipelineUpdated(filter: $f) { pipeline { id commitSha } } }', { f: filter },
    (d) => matches(d.pipelineUpdated.pipeline) && found(d.pipelineUpdated.pipeline.id),
  );
  try {
    const data = await client.query<{ pipelines: { nodes: { id: string; commitSha: string | null }[] } }>(
      'query($first: Int, $f: PipelineFilter) { pipelines(first: $first, filter: $f) { nodes { id commitSha } } }', { first: commit ? 100 : 1, f: filter },
    );
    const latest = data.pipelines.nodes.find(matches);
    if (latest) return latest.id;
    inv.io.stderr(`no pipeline matches yet${project ? ` in ${project}` : ''}${branch ? ` on ${branch}` : ''}${commit ? ` at ${commit}` : ''}: waiting for one\n`);
    return await Promise.race([created, sub.done.then((): never => { throw new CliError('the gateway ended the subscription'); })]);
  } finally {
    sub.stop();
  }
}

async function watchPipeline(client: GatewayClient, inv: Invocation, id: string): Promise<PipelineView> {
  const tty = inv.io.isTty === true;
  let tree: PipelineTree | undefined;
  const pending: (() => void)[] = [];
  let drawn = 0;
  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));

  const show = () => {
    if (!tree) return;
    if (tty) {
      // Redrawing moves the cursor up over the last tree: it must fit the screen, in width and height.
      const width = process.stdout.columns || 120;
      const height = Math.max(3, (process.stdout.rows || 50) - 1);
      let lines = tree.render(Date.now()).map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
      if (lines.length > height) lines = [...lines.slice(0, height - 1), `… ${lines.length - height + 1} more lines (a taller terminal shows them; piped, one line per change)`.slice(0, width)];
      inv.io.stdout(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      for (const line of tree.transitions()) inv.io.stdout(`${line}\n`);
    }
  };
  const apply = (change: () => void) => {
    if (!tree) return void pending.push(change);
    change();
    show();
    if (tree.finished) settle();
  };
  const snapshot = async (read: (q: string, v: Record<string, unknown>) => Promise<Snapshot>) => {
    const { node } = await read(SNAPSHOT, { id });
    if (node?.__typename !== 'Pipeline') throw new CliError(`no pipeline ${id} (unknown id, or not visible to this API key)`);
    const { jobs, ...pipeline } = node;
    if (!tree) tree = new PipelineTree(pipeline);
    else tree.setPipeline(pipeline);
    for (const job of jobs.nodes) tree.setJob(job);
  };
  let settling = false;
  // Once the pipeline has finished, the final tree is read again: job events can trail the pipeline's.
  const settle = () => {
    if (settling) return;
    settling = true;
    snapshot((q, v) => client.query<Snapshot>(q, v)).then(() => (show(), finish()), fail);
  };

  const subs: Subscription[] = [
    client.subscribe<{ pipelineUpdated: { pipeline: PipelineView } }>(
      `subscription($id: ID!) { pipelineUpdated(filter: { ids: [$id] }) { pipeline { ${PIPELINE_FIELDS} } } }`, { id },
      (d) => apply(() => tree!.setPipeline(d.pipelineUpdated.pipeline)),
    ),
    client.subscribe<{ jobUpdated: { job: JobView } }>(
      `subscription($id: ID!) { jobUpdated(filter: { pipelines: [$id] }) { job { ${JOB_FIELDS} } } }`, { id },
      (d) => apply(() => tree!.setJob(d.jobUpdated.job)),
    ),
  ];
  client.onReconnected(() => void snapshot((q, v) => client.query<Snapshot>(q, v)).then(() => apply(() => undefined), () => undefined));
  const ended = Promise.all(subs.map((s) => s.done)).then((): never => { throw new CliError('the gateway ended the subscriptions before the pipeline finished'); });
  const ticker = tty ? setInterval(show, 1000) : undefined;
  try {
    await Promise.race([snapshot((q, v) => client.queryOverSocket<Snapshot>(q, v)), ended]);
    for (const change of pending.splice(0)) change();
    show();
    if (tree!.finished) settle();
    await Promise.race([finished, ended]);
    return tree!.pipeline;
  } finally {
    clearInterval(ticker);
    for (const s of subs) s.stop();
  }
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'follow a pipeline live: pipeline → jobs → steps with statuses, durations and ETA',
  description: [
    'Give --pipeline, or any of --project, --branch, --commit to watch the latest matching pipeline',
    '(waiting for one when none exists yet). On a terminal the tree is redrawn in place; piped, it prints',
    'one line per transition (pipeline, job or step). It ends when the pipeline finishes.',
    'Exit codes: 0 finished (with --exit-status: finished SUCCESS, UNSTABLE or SKIPPED), 1 with --exit-status',
    'when it finished FAILURE, TIMED_OUT, ERROR or CANCELED, and on any error; 2 usage.',
  ].join('\n'),
  options: {
    pipeline: { type: 'string', placeholder: '<id>', help: 'the pipeline (global id, as `switchyard pipelines` shows)' },
    project: { type: 'string', placeholder: '<fullName|id>', help: 'the latest pipeline of this project, e.g. octo-org/api' },
    branch: { type: 'string', placeholder: '<branch>', help: '... on this branch' },
    commit: { type: 'string', placeholder: '<sha>', help: '... of this commit (a prefix is enough)' },
    backend: { type: 'string', multiple: true, placeholder: '<name>', help: 'only pipelines of these backends' },
    'exit-status': { type: 'boolean', help: 'exit 1 when the pipeline fails (like `gh run watch --exit-status`)' },
    ...CONNECTION_OPTIONS,
  },
  example: 'switchyard watch --project octo-org/api --branch main --exit-status',
  run(inv) {
    const pipeline = stringOption(inv.values, 'pipeline');
    if (!pipeline && !['project', 'branch', 'commit'].some((o) => stringOption(inv.values, o))) throw new UsageError('give --pipeline, or --project / --branch / --commit');
    if (pipeline && ['project', 'branch', 'commit'].some((o) => stringOption(inv.values, o))) throw new UsageError('--pipeline names one pipeline: it takes no --project, --branch or --commit');
    return withClient(inv, async (client) => {
      const id = pipeline ?? (await latestPipeline(client, inv));
      const final = await watchPipeline(client, inv, id);
      return booleanOption(inv.values, 'exit-status') && FAILED.has(final.status) ? 1 : 0;
    });
  },
};
