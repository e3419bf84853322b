import type { AdapterTestingKit, ContractUpstream, Lifecycle, StatusSample } from '../../src/adapter-testing.ts';
import type { CiStatus, StatusMapping, WaitReason } from '../../src/model.ts';
import { toJob, toPipeline } from './normalize.ts';
import { createBuildkiteSimulator } from './simulator/index.ts';
import { BUILD_STATES, JOB_STATES, SIGNAL_REASONS } from './status-map.ts';
import { signatureHeader } from './webhooks.ts';
import { buildkiteActionsKit } from './testing-actions.ts';
import { buildkiteLogsKit } from './testing-logs.ts';

/**
 * The Buildkite testing kit (src/adapter-testing.ts): recorded REST samples
 * with their exact unified status, lifecycles, an `X-Buildkite-Signature`
 * signer and the simulator for integration cases. The tables below are
 * written out by hand on purpose: they pin status-map.ts, they are not
 * derived from it.
 */

const s = (status: CiStatus): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });

const BUILD: Readonly<Record<string, StatusMapping>> = {
  creating: s('PENDING'), scheduled: s('QUEUED'), running: s('RUNNING'), passed: s('SUCCESS'), failing: s('RUNNING'),
  failed: s('FAILURE'), blocked: wait('APPROVAL'), canceling: s('CANCELING'), canceled: s('CANCELED'), skipped: s('SKIPPED'),
  not_run: s('SKIPPED'), waiting: s('PENDING'), waiting_failed: s('FAILURE'),
};

/** A command job in each state; `failed` is a plain exit 1, `finished` (GraphQL) one that exited 0. */
const JOB: Readonly<Record<string, StatusMapping>> = {
  pending: s('PENDING'), waiting: s('PENDING'), waiting_failed: s('SKIPPED'), blocked: wait('APPROVAL'),
  blocked_failed: s('SKIPPED'), unblocked: s('SUCCESS'), unblocked_failed: s('SUCCESS'), limiting: wait('CONCURRENCY'),
  limited: wait('CONCURRENCY'), scheduled: s('QUEUED'), reserved: s('QUEUED'), assigned: s('QUEUED'), accepted: s('QUEUED'),
  running: s('RUNNING'), finished: s('SUCCESS'), passed: s('SUCCESS'), failed: s('FAILURE'), canceling: s('CANCELING'),
  canceled: s('CANCELED'), expired: s('ERROR'), timing_out: s('CANCELING'), timed_out: s('TIMED_OUT'), skipped: s('SKIPPED'),
  broken: s('SKIPPED'), platform_limiting: wait('RESOURCE'), platform_limited: wait('RESOURCE'),
};

/** A failed job the agent ended: the platform's fault, or a cancel while it ran. */
const SIGNAL: Readonly<Record<string, CiStatus>> = {
  agent_stop: 'ERROR', cancel: 'CANCELED', process_run_error: 'ERROR', agent_refused: 'ERROR',
  signature_rejected: 'ERROR', stack_error: 'ERROR', agent_incompatible: 'ERROR',
};

/** Job types in a typical state each: a wait step passes, a block step waits for approval, a trigger runs. */
const TYPES: Readonly<Record<string, { state: string; expected: StatusMapping }>> = {
  script: { state: 'scheduled', expected: s('QUEUED') },
  waiter: { state: 'passed', expected: s('SUCCESS') },
  manual: { state: 'blocked', expected: wait('APPROVAL') },
  trigger: { state: 'running', expected: s('RUNNING') },
};

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const JOB_ID = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a59';
const MANUAL_ID = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a60';
const AGENT = { id: '0190f3b4-0000-4c2a-9a8e-0f1d2c3b4a61', name: 'ci-linux-1', url: 'https://api.buildkite.com/v2/organizations/acme/agents/x' };

const PRE_START = new Set(['pending', 'waiting', 'waiting_failed', 'blocked', 'blocked_failed', 'limiting', 'limited', 'scheduled', 'reserved', 'assigned', 'accepted', 'platform_limiting', 'platform_limited', 'skipped', 'broken', 'expired']);
const ENDED = new Set(['finished', 'passed', 'failed', 'canceled', 'timed_out', 'expired', 'skipped', 'broken', 'unblocked', 'unblocked_failed', 'waiting_failed', 'blocked_failed']);

/** A REST build (`GET …/builds/{number}`, a webhook's `build`) in `state`, its latest time `atMs`. */
export function restBuild(state: string, atMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const started = !['creating', 'scheduled', 'waiting', 'skipped', 'not_run'].includes(state);
  const ended = ['passed', 'failed', 'blocked', 'canceled', 'skipped', 'not_run', 'waiting_failed'].includes(state);
  const created = Math.min(atMs, T0);
  return {
    id: '0190f3b4-aaaa-4c2a-9a8e-0f1d2c3b4a00', number: 42, state, blocked: false, message: 'Fix the flaky test\n\nbody',
    commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', branch: 'main', source: 'webhook',
    creator: { id: 'u1', name: 'Keith Pitt', email: 'keith@example.com', avatar_url: null },
    url: 'https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/42',
    web_url: 'https://buildkite.com/acme/web/builds/42',
    created_at: iso(created), scheduled_at: iso(created),
    started_at: started ? iso(ended ? created : atMs) : null,
    finished_at: ended ? iso(atMs) : null,
    ...extra,
  };
}

/** A REST job of build 42 in `state`, its latest time `atMs`. */
export function restJob(state: string, atMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const started = !PRE_START.has(state);
  const ended = ENDED.has(state);
  const created = Math.min(atMs, T0);
  return {
    id: JOB_ID, type: 'script', name: ':test_tube: Test', step_key: 'test', state, command: 'make test',
    agent_query_rules: ['queue=default'], soft_failed: false, exit_status: state === 'failed' ? 1 : ended && started ? 0 : null,
    signal_reason: null, retried: false, retries_count: 0,
    web_url: `https://buildkite.com/acme/web/builds/42#${JOB_ID}`,
    agent: started ? AGENT : null,
    created_at: iso(created), scheduled_at: iso(created), runnable_at: iso(created),
    started_at: started ? iso(ended ? created : atMs) : null,
    finished_at: ended ? iso(atMs) : null,
    ...extra,
  };
}

const build42 = restBuild('running', T0);
const job = (backend: string, raw: Record<string, unknown>) => toJob(backend, raw, build42, { slug: 'web' });
const pipeline = (backend: string, raw: Record<string, unknown>) => toPipeline(backend, raw);

const samples: StatusSample[] = [
  ...Object.entries(BUILD).map(([value, expected]): StatusSample => ({
    table: 'build state', value, expected, normalize: (backend) => pipeline(backend, restBuild(value, T0)),
  })),
  {
    // REST and webhooks: a build stopped at a block step reads `passed` + `blocked: true`.
    table: 'build blocked flag', value: 'passed + blocked', expected: wait('APPROVAL'),
    normalize: (backend) => pipeline(backend, restBuild('passed', T0, { blocked: true })),
  },
  {
    // A build that failed before its block step stays a failure.
    table: 'build blocked flag', value: 'failed + blocked', expected: s('FAILURE'),
    normalize: (backend) => pipeline(backend, restBuild('failed', T0, { blocked: true })),
  },
  ...Object.entries(JOB).map(([value, expected]): StatusSample => ({
    table: 'job state', value, expected, normalize: (backend) => job(backend, restJob(value, T0)),
  })),
  {
    table: 'job soft_failed', value: 'true', expected: s('UNSTABLE'),
    normalize: (backend) => job(backend, restJob('failed', T0, { soft_failed: true })),
  },
  {
    // "Buildkite lost contact with the agent" (agent/lifecycle.md).
    table: 'job exit_status', value: '-1', expected: s('ERROR'),
    normalize: (backend) => job(backend, restJob('failed', T0, { exit_status: -1 })),
  },
  ...Object.entries(SIGNAL).map(([value, status]): StatusSample => ({
    table: 'job signal_reason', value, expected: s(status),
    normalize: (backend) => job(backend, restJob('failed', T0, { signal_reason: value, exit_status: -1 })),
  })),
  {
    table: 'job finished (GraphQL)', value: 'exit_status 2', expected: s('FAILURE'),
    normalize: (backend) => job(backend, restJob('finished', T0, { exit_status: 2 })),
  },
  ...Object.entries(TYPES).map(([value, t]): StatusSample => ({
    table: 'job type', value, expected: t.expected,
    normalize: (backend) => job(backend, restJob(t.state, T0, { type: value, ...(value === 'script' ? {} : { agent_query_rules: [] }) })),
  })),
];

const JOB_STEPS = ['scheduled', 'assigned', 'running', 'passed'];
const BLOCK_STEPS = ['blocked', 'unblocked'];
const BUILD_STEPS = ['scheduled', 'running', 'passed'];

const manualJob = (state: string, atMs: number) => ({
  id: MANUAL_ID, type: 'manual', label: ':rocket: Release?', state, unblocked_at: state === 'unblocked' ? iso(atMs) : null,
  created_at: iso(Math.min(atMs, T0)),
});

/** A build stopped at a block step, released, then passed: the release shows only in the block job's time. */
function blockedBuild(i: number, atMs: number): Record<string, unknown> {
  const script = restJob('passed', Math.min(atMs, T0));
  switch (i) {
    case 0: return restBuild('running', atMs, { jobs: [restJob('running', atMs), manualJob('blocked', atMs)] });
    case 1: return restBuild('passed', atMs, { blocked: true, jobs: [script, manualJob('blocked', atMs)] });
    case 2: return restBuild('running', atMs, { started_at: iso(Math.min(atMs, T0)), finished_at: null, jobs: [script, manualJob('unblocked', atMs)] });
    default: return restBuild('passed', atMs, { jobs: [script, manualJob('unblocked', Math.min(atMs, T0))] });
  }
}

const lifecycles: Lifecycle[] = [
  {
    // One job id moves forward only (a retry is a new id): the phase leads, whatever the times say.
    label: 'job scheduled → assigned → running → passed',
    steps: JOB_STEPS,
    times: 'any',
    observe: (backend, i, atMs) => job(backend, restJob(JOB_STEPS[i]!, atMs)),
  },
  {
    label: 'block step blocked → unblocked',
    steps: BLOCK_STEPS,
    times: 'any',
    observe: (backend, i, atMs) => job(backend, { ...manualJob(BLOCK_STEPS[i]!, atMs) }),
  },
  {
    // Time leads (a build may run again); the phase breaks ties at equal times.
    label: 'build scheduled → running → passed',
    steps: BUILD_STEPS,
    times: 'ascending',
    observe: (backend, i, atMs) => pipeline(backend, restBuild(BUILD_STEPS[i]!, atMs)),
  },
  {
    // Blocked (passed + blocked), then running again once unblocked: only time can order these.
    label: 'build running → blocked → unblocked and running → passed',
    steps: ['running', 'passed + blocked', 'running', 'passed'],
    times: 'increasing',
    observe: (backend, i, atMs) => pipeline(backend, blockedBuild(i, atMs)),
  },
];

const TOKEN = 'bk-contract-read-token';
const SECRET = 'bk-contract-webhook-secret';

async function startUpstream(): Promise<ContractUpstream> {
  const sim = await createBuildkiteSimulator({
    token: TOKEN, seed: 11, history: 1,
    agents: [{ name: 'solo', tags: ['queue=default', 'os=linux'] }],
    rateLimit: { limit: 10_000, windowSeconds: 60 },
  });
  // The seeded history's last round loses an agent mid-job: the one agent must be back for the contract's job.
  if (sim.agent('solo').connectionState !== 'connected') await sim.connectAgent('solo');
  return {
    backend: {
      url: sim.url, organization: sim.organization, token: { value: TOKEN }, webhookSecret: { value: SECRET },
      requestsPerMinute: 10_000,
    },
    connect: (url) => sim.addWebhook({ url, mode: 'signature', secret: SECRET }),
    async runJobOnRunner(sync) {
      // The agent's reconnection above reached no webhook: the gateway learns the agent from a poll first.
      await sync();
      sim.triggerBuild({ pipeline: 'docs', branch: 'main', message: 'contract' });
      await sim.runUntilIdle();
      await sync();
    },
    stop: () => sim.close(),
  };
}

const kit: AdapterTestingKit = {
  provider: 'buildkite',
  statuses: {
    // The documented values come from status-map.ts, so a value added there without a pinned sample fails the suite.
    tables: {
      'build state': BUILD_STATES,
      'build blocked flag': ['passed + blocked', 'failed + blocked'],
      'job state': JOB_STATES,
      'job soft_failed': ['true'],
      'job exit_status': ['-1'],
      'job signal_reason': SIGNAL_REASONS,
      'job finished (GraphQL)': ['exit_status 2'],
      'job type': ['script', 'waiter', 'manual', 'trigger'],
    },
    samples,
  },
  lifecycles,
  offlineConfig: { url: 'http://127.0.0.1:9', organization: 'acme', token: { value: TOKEN } },
  webhook: {
    config: { webhookSecret: { value: SECRET } },
    body: Buffer.from(JSON.stringify({
      event: 'build.running', build: restBuild('running', T0),
      pipeline: { slug: 'web', name: 'Web' }, sender: { id: 'u1', name: 'Keith Pitt' },
    })),
    sign: (body, _deliveryId, atMs, secret) => ({
      rawBody: body,
      headers: {
        'content-type': 'application/json', 'x-buildkite-event': 'build.running',
        'x-buildkite-signature': signatureHeader(secret ?? SECRET, Math.floor(atMs / 1000), body),
      },
    }),
    bodyIntegrity: true,
    replayWindowMs: 5 * 60_000,
  },
  startUpstream,
  unknownIds: {
    pipelines: ['web/999999', 'not-an-id', 'Web/1'],
    jobs: [`web/999999/${JOB_ID}`, 'web/1/not-a-uuid', 'not-an-id'],
    projects: ['no-such-pipeline', 'Not A Slug'],
  },
  actions: buildkiteActionsKit,
  logs: buildkiteLogsKit,
};

export default kit;
