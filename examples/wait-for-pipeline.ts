/**
 * Waits for a pipeline to finish and exits with its outcome: 0 for SUCCESS, 1 for any
 * other end (FAILURE, CANCELED, ...), 2 for a usage error (or no such pipeline).
 *
 *   npx tsx examples/wait-for-pipeline.ts <pipeline-id>
 *   npx tsx examples/wait-for-pipeline.ts --project=acme/api [--branch=main]   (its latest pipeline)
 */
import { parseArgs } from 'node:util';
import { graphql } from '../src/__generated__/client/index.ts';
import type { CiStatus } from '../src/__generated__/client/graphql.ts';
import { connectionFromEnv, query, run, subscribe, subscriptionClient, UsageError, type Connection } from './switchyard-client.ts';

const USAGE = `usage: wait-for-pipeline.ts <pipeline-id>
       wait-for-pipeline.ts --project=FULL_NAME [--branch=BRANCH]
  <pipeline-id>      a Pipeline's global id
  --project, --branch  the project's latest pipeline on the branch (default: its default branch)
exit status: 0 success, 1 failure or any other end, 2 usage error or no such pipeline
env: SWITCHYARD_URL (default http://localhost:4000), SWITCHYARD_API_KEY`;

/** The statuses a pipeline does not leave. */
const FINISHED: ReadonlySet<CiStatus> = new Set(['SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED']);

const ProjectByName = graphql(`
  query ProjectByName($search: String!) {
    projects(first: 100, filter: { search: $search }) { nodes { id fullName defaultBranch } }
  }
`);

const LatestPipeline = graphql(`
  query LatestPipeline($project: ID!, $branch: String) {
    pipelines(first: 1, filter: { projects: [$project], branch: $branch }) { nodes { id } }
  }
`);

const PipelineNow = graphql(`
  query PipelineNow($id: ID!) {
    node(id: $id) { ... on Pipeline { id status name number url project { fullName } } }
  }
`);

const PipelineChanges = graphql(`
  subscription PipelineChanges($id: ID!) {
    pipelineUpdated(filter: { ids: [$id] }) { pipeline { id status name number url project { fullName } } }
  }
`);

interface PipelineView { readonly status: CiStatus; readonly name?: string | null; readonly number?: number | null; readonly url?: string | null; readonly project: { readonly fullName: string } }

type Target = { readonly id: string } | { readonly project: string; readonly branch: string | undefined };

function target(): Target {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { project: { type: 'string' }, branch: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('Waits for a pipeline to finish.');
  if (positionals.length === 1 && !values.project && !values.branch) return { id: positionals[0]! };
  if (positionals.length === 0 && values.project) return { project: values.project, branch: values.branch };
  throw new UsageError('give a pipeline id, or --project (and optionally --branch)');
}

/** The project's latest pipeline on the branch (its default branch when none is given). */
async function latestPipelineId(connection: Connection, project: string, branch: string | undefined): Promise<string> {
  const { projects } = await query(connection, ProjectByName, { search: project });
  const found = projects.nodes.find((p) => p.fullName.toLowerCase() === project.toLowerCase());
  if (!found) throw new UsageError(`no project named ${project}`);
  const onBranch = branch ?? found.defaultBranch ?? null;
  const { pipelines } = await query(connection, LatestPipeline, { project: found.id, branch: onBranch });
  const latest = pipelines.nodes[0];
  if (!latest) throw new UsageError(`${found.fullName} has no pipeline${onBranch ? ` on ${onBranch}` : ''}`);
  return latest.id;
}

const describe = (p: PipelineView) => `${p.project.fullName} ${p.name ?? 'pipeline'}${p.number === null || p.number === undefined ? '' : ` #${p.number}`}`;

/** Prints the outcome; the exit status. */
function finish(p: PipelineView): number {
  console.log(`${describe(p)}: ${p.status}${p.url ? ` ${p.url}` : ''}`);
  return p.status === 'SUCCESS' ? 0 : 1;
}

/**
 * graphql-ws does not acknowledge a subscription, so the first read may run just before the
 * gateway starts listening: re-reading now and then closes that window (and costs one query).
 */
const RECHECK_MS = 30_000;

run(USAGE, async () => {
  const wanted = target();
  const connection = connectionFromEnv();
  const id = 'id' in wanted ? wanted.id : await latestPipelineId(connection, wanted.project, wanted.branch);
  const client = subscriptionClient(connection);
  const changes = subscribe(client, PipelineChanges, { id });
  try {
    // Subscribe first, then read the current state: a pipeline that finished before the
    // subscription is seen by the query, one that finishes after it by the subscription.
    let next = changes.next();
    const { node } = await query(connection, PipelineNow, { id });
    if (!node || !('status' in node)) throw new UsageError(`no pipeline with id ${id}`);
    if (FINISHED.has(node.status)) return finish(node);
    console.error(`waiting for ${describe(node)} (${node.status})`);
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const recheck = new Promise<'recheck'>((resolve) => (timer = setTimeout(() => resolve('recheck'), RECHECK_MS)));
      const event = await Promise.race([next, recheck]);
      clearTimeout(timer);
      if (event === 'recheck') {
        const { node: now } = await query(connection, PipelineNow, { id });
        if (now && 'status' in now && FINISHED.has(now.status)) return finish(now);
        continue;
      }
      if (event.done) throw new Error('the subscription ended before the pipeline finished');
      const { pipeline } = event.value.pipelineUpdated;
      if (FINISHED.has(pipeline.status)) return finish(pipeline);
      next = changes.next();
    }
  } finally {
    void changes.return(undefined);
    await client.dispose();
  }
});
