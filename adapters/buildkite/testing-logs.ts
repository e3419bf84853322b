import type { LogWorld, LogsKit } from '../../src/adapter-testing.ts';
import { formatJobId, parseJobId } from './native-ids.ts';
import { createBuildkiteSimulator } from './simulator/index.ts';

/**
 * The logs part of the Buildkite testing kit (ADAPTERS.md §12, §14), for testing.ts:
 * `logs: buildkiteLogsKit`. Logs are 'exact' (only what the test appends, then Buildkite's footer
 * once the job ends); a job is the single command step of a `docs` build, moved only by its own
 * build's steps (`world.advance`), so starting a second job never ends the first: it runs until
 * `finish`. The read token has `read_build_logs`.
 */
const READ = 'bk-contract-logs-token';
const SLUG = 'docs';

async function startLogWorld(): Promise<LogWorld> {
  const sim = await createBuildkiteSimulator({
    seed: 31, history: 0, logs: 'exact', rateLimit: { limit: 100_000, windowSeconds: 60 },
    tokens: [{ token: READ, scopes: ['read_builds', 'read_pipelines', 'read_agents', 'read_build_logs'] }],
  });
  const jobOf = (jobNativeId: string) => {
    const ref = parseJobId(jobNativeId);
    if (!ref || ref.slug !== SLUG) throw new Error(`buildkite log world: not one of its jobs: ${jobNativeId}`);
    return sim.job(ref.jobId);
  };
  return {
    backend: { url: sim.url, organization: sim.organization, token: { value: READ }, requestsPerMinute: 10_000 },
    async startJob() {
      const build = sim.triggerBuild({ pipeline: SLUG, branch: 'main' });
      const running = () => build.jobs.find((j) => j.type === 'script' && j.state === 'running');
      for (let i = 0; i < 10 && !running(); i++) sim.world.advance(build);
      const job = running();
      if (!job) throw new Error('buildkite log world: the job did not start');
      return formatJobId(SLUG, build.number, job.id);
    },
    async append(jobNativeId, text) {
      sim.appendLog(jobOf(jobNativeId).id, text);
    },
    async finish(jobNativeId) {
      const job = jobOf(jobNativeId);
      const build = sim.build(SLUG, parseJobId(jobNativeId)!.number);
      for (let i = 0; i < 20 && job.finishedAt === null; i++) sim.world.advance(build);
      if (job.finishedAt === null) throw new Error(`buildkite log world: ${jobNativeId} did not finish`);
    },
    logRequests: (jobNativeId) => {
      const id = jobOf(jobNativeId).id;
      return sim.requests.filter((r) => r.path.includes(`/jobs/${id}/log`)).length;
    },
    unknownJob: formatJobId(SLUG, 999_999, '00000000-0000-4000-8000-000000000000'),
    stop: () => sim.close(),
  };
}

export const buildkiteLogsKit: LogsKit = {
  // The log endpoint serves a running job's log as the agent uploads it.
  whileRunning: 'LIVE',
  startWorld: startLogWorld,
};
