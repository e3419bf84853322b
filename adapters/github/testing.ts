import type { ActionWorld, AdapterTestingKit, ContractUpstream, Lifecycle, LogWorld, StatusSample } from '../../src/adapter-testing.ts';
import type { CiStatus, StatusMapping, WaitReason } from '../../src/model.ts';
import { formatJobId, formatPipelineId, parseJobId } from './native-ids.ts';
import { toJob, toPipeline } from './normalize.ts';
import { createGithubSimulator } from './simulator/index.ts';
import { GITHUB_RUN_CONCLUSIONS, GITHUB_RUN_STATUSES } from './status-map.ts';
import { signatureOf } from './webhooks.ts';

/**
 * The GitHub testing kit (src/adapter-testing.ts). Expected statuses are
 * written out by hand: they pin status-map.ts rather than restate it.
 */

const s = (status: CiStatus): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });

const STATUS: Readonly<Record<string, StatusMapping>> = {
  requested: s('PENDING'), queued: s('QUEUED'), pending: wait('CONCURRENCY'), waiting: wait('APPROVAL'), in_progress: s('RUNNING'),
};
const RUN_CONCLUSION: Readonly<Record<string, StatusMapping>> = {
  success: s('SUCCESS'), neutral: s('SUCCESS'), failure: s('FAILURE'), timed_out: s('TIMED_OUT'), cancelled: s('CANCELED'),
  skipped: s('SKIPPED'), startup_failure: s('ERROR'), stale: s('ERROR'), action_required: wait('APPROVAL'),
};
const JOB_CONCLUSION: Readonly<Record<string, StatusMapping>> = {
  success: s('SUCCESS'), neutral: s('SUCCESS'), failure: s('FAILURE'), timed_out: s('TIMED_OUT'), cancelled: s('CANCELED'),
  skipped: s('SKIPPED'), action_required: wait('APPROVAL'),
};

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const REPO = 'octo-org/api';

/** A REST workflow run at `atMs`; `status` may be a conclusion (then the run is completed). */
function run(status: string, atMs: number): Record<string, unknown> {
  const completed = !Object.hasOwn(STATUS, status);
  return {
    id: 3001, run_number: 4, run_attempt: 1, name: 'ci', status: completed ? 'completed' : status, conclusion: completed ? status : null,
    head_branch: 'main', head_sha: 'abc123', event: 'push', created_at: iso(T0), updated_at: iso(atMs),
    run_started_at: iso(T0), html_url: `https://github.com/${REPO}/actions/runs/3001`, repository: { full_name: REPO },
  };
}

/** A REST job at `atMs`; `status` may be a conclusion (then the job is completed). */
function job(status: string, atMs: number): Record<string, unknown> {
  const completed = !Object.hasOwn(STATUS, status);
  const started = completed || status === 'in_progress';
  return {
    id: 7001, run_id: 3001, run_attempt: 1, name: 'unit', status: completed ? 'completed' : status, conclusion: completed ? status : null,
    created_at: iso(started ? atMs - 60_000 : atMs), started_at: started ? iso(atMs - (completed ? 30_000 : 0)) : null,
    completed_at: completed ? iso(atMs) : null, labels: ['self-hosted'], runner_id: started ? 5 : null, runner_name: started ? 'solo' : null,
    runner_group_id: started ? 1 : null, runner_group_name: started ? 'Default' : null, head_branch: 'main',
    url: `https://api.github.com/repos/${REPO}/actions/jobs/7001`, html_url: `https://github.com/${REPO}/actions/runs/3001/job/7001`, steps: [],
  };
}

const samples: StatusSample[] = [
  ...Object.entries(STATUS).map(([value, expected]): StatusSample => ({
    table: 'run status', value, expected, normalize: (b) => toPipeline(b, run(value, T0) as never, REPO),
  })),
  ...Object.entries(RUN_CONCLUSION).map(([value, expected]): StatusSample => ({
    table: 'run conclusion', value, expected, normalize: (b) => toPipeline(b, run(value, T0) as never, REPO),
  })),
  ...Object.entries(STATUS).map(([value, expected]): StatusSample => ({
    table: 'job status', value, expected, normalize: (b) => toJob(b, job(value, T0) as never, REPO),
  })),
  ...Object.entries(JOB_CONCLUSION).map(([value, expected]): StatusSample => ({
    table: 'job conclusion', value, expected, normalize: (b) => toJob(b, job(value, T0) as never, REPO),
  })),
];

const lifecycles: Lifecycle[] = [
  {
    // One attempt moves forward: started and finished rank above every pre-start state, whatever updated_at says.
    label: 'run queued → in_progress → completed',
    steps: ['queued', 'in_progress', 'success'],
    times: 'any',
    observe: (b, i, atMs) => toPipeline(b, run(['queued', 'in_progress', 'success'][i]!, atMs) as never, REPO),
  },
  {
    label: 'job queued → held → in_progress → completed',
    steps: ['queued', 'waiting', 'in_progress', 'failure'],
    times: 'any',
    observe: (b, i, atMs) => toJob(b, job(['queued', 'waiting', 'in_progress', 'failure'][i]!, atMs) as never, REPO),
  },
];

const TOKEN = 'ghp_contract_token';
const SECRET = 'github-contract-secret';

async function startUpstream(): Promise<ContractUpstream> {
  const sim = createGithubSimulator({
    token: TOKEN, seed: 7, repositories: ['api'], history: 2,
    runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }],
  });
  await sim.start();
  return {
    backend: {
      url: sim.url, token: { value: TOKEN }, webhookSecret: { value: SECRET },
      organizations: ['octo-org'], runners: { organizations: ['octo-org'] },
    },
    connect: (url) => sim.setWebhook({ url, secret: SECRET }),
    async runJobOnRunner() {
      await sim.triggerRun({ repo: 'api', jobs: [{ name: 'contract', labels: ['self-hosted'], outcome: 'success' }] });
      await sim.runUntilIdle();
    },
    stop: () => sim.stop(),
  };
}

const WRITE_TOKEN = 'ghp_contract_write_token';

/** The simulator accepts the write token for writes and answers the read one 403 there. */
async function startActionWorld(): Promise<ActionWorld> {
  const sim = createGithubSimulator({ token: TOKEN, writeToken: WRITE_TOKEN, seed: 15, repositories: ['api'], history: 0 });
  await sim.start();
  const finished = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'unit', labels: ['self-hosted'], outcome: 'failure' }] });
  await sim.runUntilIdle();
  const running = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'], steps: ['a', 'b', 'c'] }] });
  await sim.step(); // the job starts on the idle runner
  return {
    backend: { url: sim.url, token: { value: TOKEN }, organizations: ['octo-org'] },
    writeCredentials: { writeToken: { value: WRITE_TOKEN } },
    runningPipeline: formatPipelineId(REPO, running.runId),
    finishedPipeline: formatPipelineId(REPO, finished.runId),
    unknownPipeline: formatPipelineId(REPO, 999_999_999),
    step: () => sim.step(),
    credentialLog: () => sim.credentials,
    stop: () => sim.stop(),
  };
}

/**
 * Jobs whose log the test writes exactly (`jobLogs: 'exact'`): each runs on a GitHub-hosted VM (no
 * runner capacity to wait for) and stays in_progress, its log empty, until `finish`.
 */
async function startLogWorld(): Promise<LogWorld> {
  const sim = createGithubSimulator({ token: TOKEN, seed: 17, repositories: ['api'], history: 0, jobLogs: 'exact' });
  await sim.start();
  const jobIdOf = (nativeId: string): number => {
    const ref = parseJobId(nativeId);
    if (!ref) throw new Error(`not a GitHub job id: ${nativeId}`);
    return Number(ref.jobId);
  };
  return {
    backend: { url: sim.url, token: { value: TOKEN }, organizations: ['octo-org'] },
    async startJob() {
      const { jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'logs', labels: ['ubuntu-latest'], steps: ['a', 'b'] }] });
      const jobId = jobIds[0]!;
      // One transition starts the oldest queued job: the one just created, since every earlier one was finished.
      for (let i = 0; i < 5 && sim.world.jobs().find((j) => j.id === jobId)?.status === 'queued'; i++) await sim.step();
      if (sim.world.jobs().find((j) => j.id === jobId)?.status !== 'in_progress') throw new Error(`job ${jobId} did not start`);
      return formatJobId(REPO, jobId);
    },
    append: async (nativeId, text) => sim.logs.append(jobIdOf(nativeId), text),
    finish: (nativeId) => sim.finishJob(jobIdOf(nativeId)),
    logRequests: (nativeId) => sim.logs.apiRequests(jobIdOf(nativeId)),
    unknownJob: formatJobId(REPO, 999_999_999),
    stop: () => sim.stop(),
  };
}

const kit: AdapterTestingKit = {
  provider: 'github',
  statuses: {
    tables: {
      // From status-map.ts where it lists them; `completed` is pinned through its conclusions.
      'run status': GITHUB_RUN_STATUSES.filter((v) => v !== 'completed'), 'run conclusion': GITHUB_RUN_CONCLUSIONS,
      'job status': Object.keys(STATUS), 'job conclusion': Object.keys(JOB_CONCLUSION),
    },
    samples,
  },
  lifecycles,
  offlineConfig: { url: 'http://127.0.0.1:9', token: { value: TOKEN }, webhookSecret: { value: SECRET }, organizations: ['octo-org'] },
  webhook: {
    config: { webhookSecret: { value: SECRET } },
    body: Buffer.from(JSON.stringify({ action: 'in_progress', workflow_job: job('in_progress', T0), repository: { full_name: REPO } })),
    sign: (body, deliveryId, _atMs, secret) => ({
      rawBody: body,
      headers: {
        'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-github-delivery': deliveryId,
        'x-hub-signature-256': signatureOf(secret ?? SECRET, body),
      },
    }),
    bodyIntegrity: true,
    replayWindowMs: { unsupported: 'GitHub signs no timestamp: a replay is stopped by the X-GitHub-Delivery id alone' },
  },
  startUpstream,
  unknownIds: { pipelines: [`${REPO}/runs/999999999`, 'other-org/x/runs/1'], jobs: [`${REPO}/jobs/999999999`, 'other-org/x/jobs/1'], projects: ['other-org/x'] },
  // A completed run's cancel answers 409 "Cannot cancel a workflow run that is completed."
  actions: { startWorld: startActionWorld, refusesCancelOfFinished: true },
  // GitHub has no live log: the job log is served once the job has completed.
  logs: { whileRunning: 'AFTER_COMPLETION', startWorld: startLogWorld },
};

export default kit;
