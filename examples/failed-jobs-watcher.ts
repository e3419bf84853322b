/**
 * Prints one line per failed job, as it fails: project, pipeline, job, status, link.
 *
 *   SWITCHYARD_URL=http://localhost:4000 npx tsx examples/failed-jobs-watcher.ts [--max=N] [--project=acme/**]
 */
import { parseArgs } from 'node:util';
import { graphql } from '../src/__generated__/client/index.ts';
import { connectionFromEnv, run, subscribe, subscriptionClient, UsageError } from './switchyard-client.ts';

const USAGE = `usage: failed-jobs-watcher.ts [--max=N] [--project=NAME_OR_PATTERN]...
  --max=N       stop after N failed jobs (default: watch until interrupted)
  --project=P   only these projects: full names or patterns (acme/api, acme/**)
env: SWITCHYARD_URL (default http://localhost:4000), SWITCHYARD_API_KEY`;

const FailedJobs = graphql(`
  subscription FailedJobs($filter: JobFilter) {
    jobUpdated(filter: $filter) {
      job {
        name
        status
        url
        project { fullName }
        pipeline { name number url }
      }
    }
  }
`);

function options() {
  try {
    const { values } = parseArgs({ options: { max: { type: 'string' }, project: { type: 'string', multiple: true }, help: { type: 'boolean' } } });
    if (values.help) throw new UsageError('Watches for failed jobs.');
    const max = values.max === undefined ? Infinity : Number(values.max);
    if (!(max >= 1) || (values.max !== undefined && !Number.isInteger(max))) throw new UsageError(`--max must be a positive integer, not ${values.max}`);
    return { max, projects: values.project };
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
}

run(USAGE, async () => {
  const { max, projects } = options();
  const client = subscriptionClient(connectionFromEnv());
  let printed = 0;
  try {
    // statusChanged: one line per failure, not one from the webhook and another from the next poll.
    const filter = { status: ['FAILURE' as const], statusChanged: true, ...(projects ? { projectNames: projects } : {}) };
    for await (const { jobUpdated: { job } } of subscribe(client, FailedJobs, { filter })) {
      const pipeline = job.pipeline ? `${job.pipeline.name ?? 'pipeline'}${job.pipeline.number === null || job.pipeline.number === undefined ? '' : ` #${job.pipeline.number}`}` : '-';
      console.log([job.project.fullName, pipeline, job.name, job.status, job.url ?? job.pipeline?.url ?? '-'].join('\t'));
      if (++printed >= max) break;
    }
  } finally {
    await client.dispose();
  }
  return 0;
});
