import type { ActionWorld, AdapterTestingKit, ContractUpstream, Lifecycle, LogWorld, StatusSample } from '../../src/adapter-testing.ts';
import type { CiStatus, StatusMapping, WaitReason } from '../../src/model.ts';
import { formatJobId, formatPipelineId, parseJobId } from './native-ids.ts';
import { toJob, toPipeline } from './normalize.ts';
import { createGitlabSimulator } from './simulator/index.ts';
import { GITLAB_FAILURE_REASONS, GITLAB_STATUSES } from './status-map.ts';
import { standardSignature } from './webhooks.ts';

/**
 * The GitLab testing kit (src/adapter-testing.ts): recorded REST samples with
 * their exact unified status, lifecycles, a Standard Webhooks signer and the
 * simulator for integration cases. The tables below are written out by hand
 * on purpose: they pin status-map.ts, they are not derived from it.
 */

const s = (status: CiStatus): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });

const STATUS: Readonly<Record<string, StatusMapping>> = {
  created: s('PENDING'), waiting_for_resource: wait('RESOURCE'), preparing: s('QUEUED'),
  waiting_for_callback: wait('CALLBACK'), pending: s('QUEUED'), running: s('RUNNING'), success: s('SUCCESS'),
  failed: s('FAILURE'), canceling: s('CANCELING'), canceled: s('CANCELED'), skipped: s('SKIPPED'),
  manual: wait('MANUAL'), scheduled: wait('SCHEDULED'),
};

/** Every failure reason GitLab documents, pinned: the user's code, a limit, or the platform. */
const FAILURE_REASON: Readonly<Record<string, CiStatus>> = {
  unknown_failure: 'FAILURE', script_failure: 'FAILURE', missing_dependency_failure: 'FAILURE',
  unmet_prerequisites: 'FAILURE', forward_deployment_failure: 'FAILURE', environment_creation_failure: 'FAILURE',
  deployment_rejected: 'FAILURE', failed_outdated_deployment_job: 'FAILURE', protected_environment_failure: 'FAILURE',
  insufficient_bridge_permissions: 'FAILURE', downstream_bridge_project_not_found: 'FAILURE',
  invalid_bridge_trigger: 'FAILURE', upstream_bridge_project_not_found: 'FAILURE',
  insufficient_upstream_permissions: 'FAILURE', bridge_pipeline_is_child_pipeline: 'FAILURE',
  downstream_pipeline_creation_failed: 'FAILURE', secrets_provider_not_found: 'FAILURE',
  reached_max_descendant_pipelines_depth: 'FAILURE', reached_max_pipeline_hierarchy_size: 'FAILURE',
  pipeline_loop_detected: 'FAILURE', trace_size_exceeded: 'FAILURE',
  job_execution_timeout: 'TIMED_OUT', stuck_or_timeout_failure: 'TIMED_OUT',
  runner_system_failure: 'ERROR', api_failure: 'ERROR', scheduler_failure: 'ERROR', data_integrity_failure: 'ERROR',
  runner_unsupported: 'ERROR', archived_failure: 'ERROR', stale_schedule: 'ERROR', no_matching_runner: 'ERROR',
  ci_quota_exceeded: 'ERROR', builds_disabled: 'ERROR', project_deleted: 'ERROR', user_blocked: 'ERROR',
  job_token_expired: 'ERROR', job_router_failure: 'ERROR',
};

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A REST job (`GET /projects/:id/jobs/:job_id`) in `status`, its times at `atMs`. */
function restJob(status: string, atMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const started = !['created', 'pending', 'preparing', 'waiting_for_resource', 'manual', 'scheduled', 'skipped'].includes(status);
  const finished = ['success', 'failed', 'canceled'].includes(status);
  return {
    id: 9001, name: 'unit', stage: 'test', status, ref: 'main', tag: false, allow_failure: false,
    created_at: iso(started ? atMs - 60_000 : atMs), started_at: started ? iso(atMs - (finished ? 30_000 : 0)) : null,
    finished_at: finished ? iso(atMs) : null, failure_reason: status === 'failed' ? 'script_failure' : null,
    pipeline: { id: 501, project_id: 42 }, runner: started ? { id: 7, description: 'solo' } : null, tag_list: ['linux'],
    web_url: 'https://gitlab.example.com/platform/backend/-/jobs/9001',
    ...extra,
  };
}

/** A REST pipeline (`GET /projects/:id/pipelines/:id`, with detailed_status) updated at `atMs`. */
function restPipeline(status: string, atMs: number, group = status): Record<string, unknown> {
  return {
    id: 501, iid: 12, project_id: 42, status, ref: 'main', sha: 'abc123', source: 'push',
    created_at: iso(T0), updated_at: iso(atMs), started_at: status === 'created' ? null : iso(T0), finished_at: null,
    detailed_status: { group }, web_url: 'https://gitlab.example.com/platform/backend/-/pipelines/501',
  };
}

const samples: StatusSample[] = [
  ...Object.entries(STATUS).map(([value, expected]): StatusSample => ({
    table: 'job status', value, expected, normalize: (backend) => toJob(backend, restJob(value, T0)),
  })),
  ...Object.entries(FAILURE_REASON).map(([value, status]): StatusSample => ({
    table: 'job failure_reason', value, expected: s(status),
    normalize: (backend) => toJob(backend, restJob('failed', T0, { failure_reason: value })),
  })),
  {
    table: 'job allow_failure', value: 'true', expected: s('UNSTABLE'),
    normalize: (backend) => toJob(backend, restJob('failed', T0, { failure_reason: 'script_failure', allow_failure: true })),
  },
  ...Object.entries(STATUS).map(([value, expected]): StatusSample => ({
    table: 'pipeline status', value, expected, normalize: (backend) => toPipeline(backend, restPipeline(value, T0)),
  })),
  {
    table: 'pipeline detailed_status', value: 'success-with-warnings', expected: s('UNSTABLE'),
    normalize: (backend) => toPipeline(backend, restPipeline('success', T0, 'success-with-warnings')),
  },
];

const lifecycles: Lifecycle[] = [
  {
    // A job id moves forward only: the phase leads, whatever the times say.
    label: 'job created → running → success',
    steps: ['created', 'pending', 'running', 'success'],
    times: 'any',
    observe: (backend, i, atMs) => toJob(backend, restJob(['created', 'pending', 'running', 'success'][i]!, atMs)),
  },
  {
    // GitLab resets skipped jobs to created when an earlier job is retried.
    label: 'skipped job reset by a retry, then run',
    steps: ['skipped', 'created', 'pending', 'running', 'failed'],
    times: 'increasing',
    observe: (backend, i, atMs) => toJob(backend, restJob(['skipped', 'created', 'pending', 'running', 'failed'][i]!, atMs)),
  },
  {
    // Time leads (a pipeline may go back to running); the phase breaks ties within a second.
    label: 'pipeline created → running → success',
    steps: ['created', 'running', 'success'],
    times: 'ascending',
    observe: (backend, i, atMs) => toPipeline(backend, restPipeline(['created', 'running', 'success'][i]!, atMs)),
  },
];

const TOKEN = 'glpat-contract-token-0123456789';
const HOOK_TOKEN = 'gitlab-contract-hook-token';
const SIGNING = `whsec_${Buffer.from('switchyard-contract-signing-key!').toString('base64')}`;

async function startUpstream(): Promise<ContractUpstream> {
  const sim = createGitlabSimulator({
    token: TOKEN, seed: 11, history: 1,
    runners: [{ description: 'solo', tags: ['solo'], type: 'group_type', runUntagged: false }],
  });
  await sim.start();
  return {
    backend: {
      url: sim.url, token: { value: TOKEN }, webhookToken: { value: HOOK_TOKEN }, webhookSigningToken: { value: SIGNING },
      groups: [sim.world.group], runners: { scope: 'groups' },
    },
    connect: (url) => sim.setWebhook({ url, token: HOOK_TOKEN, signingToken: SIGNING }),
    async runJobOnRunner() {
      await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'contract', stage: 'test', tags: ['solo'] }] });
      await sim.runUntilIdle();
    },
    stop: () => sim.stop(),
  };
}

const WRITE_TOKEN = 'glpat-contract-write-token-0123';

/** The simulator accepts the write token on POSTs and answers the read one 403 {"message":"403 Forbidden"}. */
async function startActionWorld(): Promise<ActionWorld> {
  const sim = createGitlabSimulator({ token: TOKEN, writeToken: WRITE_TOKEN, seed: 15, history: 0 });
  await sim.start();
  const project = sim.world.projects().find((p) => p.path === 'backend')!.id;
  const status = (id: number) => sim.world.pipelines().find((p) => p.id === id)?.status;
  const finished = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test', outcome: 'failed' }] });
  await sim.runUntilIdle();
  const running = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'build', stage: 'build' }, { name: 'deploy', stage: 'deploy' }] });
  for (let i = 0; i < 20 && status(running.pipelineId) !== 'running'; i++) await sim.step();
  if (status(finished.pipelineId) !== 'failed' || status(running.pipelineId) !== 'running') throw new Error('gitlab action world: pipelines not as expected');
  return {
    backend: { url: sim.url, token: { value: TOKEN }, groups: [sim.world.group], runners: { scope: 'none' } },
    writeCredentials: { writeToken: { value: WRITE_TOKEN } },
    runningPipeline: formatPipelineId(project, running.pipelineId),
    finishedPipeline: formatPipelineId(project, finished.pipelineId),
    unknownPipeline: formatPipelineId(project, 999_999),
    step: () => sim.step(),
    credentialLog: () => sim.credentials,
    stop: () => sim.stop(),
  };
}

/**
 * The logs world: each `startJob` triggers a one-job pipeline and steps the simulator until the
 * job runs (a runner with room for every job, so a step never finishes an earlier one), then
 * takes its trace over with an empty log the test writes; `finish` ends it successfully.
 */
async function startLogWorld(): Promise<LogWorld> {
  const sim = createGitlabSimulator({
    token: TOKEN, seed: 17, history: 0,
    runners: [{ description: 'logs', tags: [], type: 'instance_type', concurrent: 100 }],
  });
  await sim.start();
  const project = sim.world.projects().find((p) => p.path === 'backend')!.id;
  const statusOf = (jobId: number) => sim.world.jobs().find((j) => j.id === jobId)?.status;
  const jobIdOf = (nativeId: string): number => {
    const ref = parseJobId(nativeId);
    if (!ref) throw new Error(`gitlab log world: not a job id: ${nativeId}`);
    return Number(ref.jobId);
  };
  return {
    backend: { url: sim.url, token: { value: TOKEN }, groups: [sim.world.group], runners: { scope: 'none' } },
    async startJob() {
      const { jobIds: [jobId] } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'logged', stage: 'test' }] });
      for (let i = 0; i < 10 && statusOf(jobId!) !== 'running'; i++) await sim.step();
      if (statusOf(jobId!) !== 'running') throw new Error(`gitlab log world: job ${jobId} did not start (${statusOf(jobId!)})`);
      sim.logs.startEmpty(jobId!);
      return formatJobId(project, jobId!);
    },
    append: async (nativeId, text) => sim.logs.append(jobIdOf(nativeId), text),
    finish: (nativeId) => sim.finishJob(jobIdOf(nativeId)),
    logRequests: (nativeId) => sim.logs.requests(jobIdOf(nativeId)),
    unknownJob: formatJobId(project, 999_999),
    stop: () => sim.stop(),
  };
}

const kit: AdapterTestingKit = {
  provider: 'gitlab',
  statuses: {
    // The documented values come from status-map.ts, so a value added there without a pinned sample fails the suite.
    tables: {
      'job status': GITLAB_STATUSES,
      'job failure_reason': GITLAB_FAILURE_REASONS,
      'job allow_failure': ['true'],
      'pipeline status': GITLAB_STATUSES,
      'pipeline detailed_status': ['success-with-warnings'],
    },
    samples,
  },
  lifecycles,
  offlineConfig: {
    url: 'http://127.0.0.1:9/api/v4', token: { value: TOKEN }, webhookToken: { value: HOOK_TOKEN },
    webhookSigningToken: { value: SIGNING }, groups: ['platform'],
  },
  webhook: {
    config: { webhookToken: { value: HOOK_TOKEN }, webhookSigningToken: { value: SIGNING } },
    body: Buffer.from(JSON.stringify({ object_kind: 'build', build_id: 1, project_id: 42, pipeline_id: 501, build_status: 'running' })),
    sign: (body, deliveryId, atMs, secret) => {
      const ts = Math.floor(atMs / 1000);
      return {
        rawBody: body,
        headers: {
          'content-type': 'application/json', 'x-gitlab-event': 'Job Hook', 'x-gitlab-token': secret ?? HOOK_TOKEN,
          'idempotency-key': deliveryId, 'webhook-id': deliveryId, 'webhook-timestamp': String(ts),
          'webhook-signature': standardSignature(secret ? `whsec_${Buffer.from(secret.padEnd(32, '!')).toString('base64')}` : SIGNING, deliveryId, ts, body),
        },
      };
    },
    bodyIntegrity: true,
    replayWindowMs: 5 * 60_000,
  },
  startUpstream,
  unknownIds: { pipelines: ['42/pipelines/999999', 'not-an-id'], jobs: ['42/jobs/999999', 'not-an-id'], projects: ['no-such-group/nothing'] },
  // GitLab answers cancel of a finished pipeline 200 unchanged; the adapter reads it first and refuses.
  actions: { startWorld: startActionWorld, refusesCancelOfFinished: true },
  // The trace is served while the job runs (and after): LIVE.
  logs: { whileRunning: 'LIVE', startWorld: startLogWorld },
};

export default kit;
