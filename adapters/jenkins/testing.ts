import type { ActionWorld, AdapterTestingKit, LogWorld, ContractUpstream, CredentialRecord, Lifecycle, StatusSample } from '../../src/adapter-testing.ts';
import type { CiStatus, StatusMapping, WaitReason } from '../../src/model.ts';
import { formatPipelineId, formatStageJobId, parseJobId } from './native-ids.ts';
import { agentRemovedBy, toPipeline, toStageJob } from './normalize.ts';
import { createJenkinsSimulator, type AuthRecord, type SimUser } from './simulator/index.ts';
import { AGENT_LOSS_ERROR_TYPES, AGENT_REMOVED_CAUSES, JENKINS_RESULTS, WFAPI_STATUSES } from './status-map.ts';
import { TOKEN_HEADER } from './webhooks.ts';

/**
 * The Jenkins testing kit (src/adapter-testing.ts). Expected statuses are
 * written out by hand: they pin status-map.ts rather than restate it.
 */

const s = (status: CiStatus): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });

const RESULT: Readonly<Record<string, StatusMapping>> = {
  SUCCESS: s('SUCCESS'), UNSTABLE: s('UNSTABLE'), FAILURE: s('FAILURE'), NOT_BUILT: s('SKIPPED'), ABORTED: s('CANCELED'),
};
const STAGE: Readonly<Record<string, StatusMapping>> = {
  SUCCESS: s('SUCCESS'), FAILED: s('FAILURE'), UNSTABLE: s('UNSTABLE'), ABORTED: s('CANCELED'), IN_PROGRESS: s('RUNNING'),
  PAUSED_PENDING_INPUT: wait('INPUT'), NOT_EXECUTED: s('SKIPPED'), SKIPPED: s('SKIPPED'),
};

const T0 = Date.parse('2026-03-01T10:00:00Z');
const JOB = 'team-a/service';

/** A build read (`/job/team-a/job/service/7/api/json`): `result` null = building, started at `atMs`, or ended at `atMs`. */
function build(result: string | null, atMs: number): Record<string, unknown> {
  return {
    _class: 'hudson.model.FreeStyleBuild', number: 7, building: result === null, result,
    timestamp: result === null ? atMs : atMs - 10_000, duration: result === null ? 0 : 10_000,
    url: 'http://jenkins.example.com/job/team-a/job/service/7/',
  };
}

/** A wfapi stage in `status`, started at `atMs` (or ended at `atMs` once finished). */
function stage(status: string, atMs: number): Record<string, unknown> {
  const running = status === 'IN_PROGRESS' || status === 'PAUSED_PENDING_INPUT';
  return { id: '12', name: 'Compile', status, execNode: 'solo', startTimeMillis: running ? atMs : atMs - 5_000, durationMillis: running ? 0 : 5_000 };
}

const STAGE_CTX = { fullName: JOB, number: 7, buildUrl: null, branch: null };

const samples: StatusSample[] = [
  ...Object.entries(RESULT).map(([value, expected]): StatusSample => ({
    table: 'build result', value, expected, normalize: (b) => toPipeline(b, JOB, build(value, T0)),
  })),
  { table: 'build result', value: 'null (building)', expected: s('RUNNING'), normalize: (b) => toPipeline(b, JOB, build(null, T0)) },
  ...Object.entries(STAGE).map(([value, expected]): StatusSample => ({
    table: 'wfapi stage status', value, expected, normalize: (b) => toStageJob(b, STAGE_CTX, stage(value, T0)),
  })),
  // A lost agent is infrastructure: a FAILED stage's error.type, or the removal cause of its build's InterruptedBuildAction.
  ...AGENT_LOSS_ERROR_TYPES.map((value): StatusSample => ({
    table: 'wfapi FAILED error.type (lost agent)', value, expected: s('ERROR'),
    normalize: (b) => toStageJob(b, STAGE_CTX, { ...stage('FAILED', T0), error: { message: null, type: value } }),
  })),
  ...AGENT_REMOVED_CAUSES.map((value): StatusSample => ({
    table: 'ABORTED stage, build interrupted by (lost agent)', value, expected: s('ERROR'),
    normalize: (b) => toStageJob(b, { ...STAGE_CTX, agentRemovedBy: agentRemovedBy({ actions: [{ causes: [{ _class: value }] }] }) }, stage('ABORTED', T0)),
  })),
];

const lifecycles: Lifecycle[] = [
  {
    label: 'build building → finished',
    steps: ['building', 'SUCCESS'],
    times: 'any',
    observe: (b, i, atMs) => toPipeline(b, JOB, build(i === 0 ? null : 'SUCCESS', atMs)),
  },
  {
    label: 'stage IN_PROGRESS → SUCCESS',
    steps: ['IN_PROGRESS', 'SUCCESS'],
    times: 'any',
    observe: (b, i, atMs) => toStageJob(b, STAGE_CTX, stage(i === 0 ? 'IN_PROGRESS' : 'SUCCESS', atMs)),
  },
];

const USER = 'switchyard-bot';
const API_TOKEN = 'jenkins-contract-api-token';
const NOTIFY = 'jenkins-contract-notify-secret';

async function startUpstream(): Promise<ContractUpstream> {
  const sim = createJenkinsSimulator({
    user: USER, apiToken: API_TOKEN, seed: 11, history: 1,
    agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'solo', labels: ['solo'], executors: 1 }],
  });
  await sim.start();
  return {
    // Poll-only: the Notification plugin's pushes are hints the gateway confirms by reading anyway.
    backend: { url: sim.url, user: USER, apiToken: { value: API_TOKEN }, requestsPerMinute: 10_000 },
    connect: () => undefined,
    async runJobOnRunner(sync) {
      await sim.triggerBuild({ job: JOB, label: 'solo', stages: [{ name: 'Compile', steps: ['Shell Script'] }] });
      await sync();
      for (let guard = 0; guard < 40 && (await sim.step()); guard++) await sync();
      await sync();
    },
    stop: () => sim.stop(),
  };
}

const READER: SimUser = { name: 'contract-reader', apiToken: 'jenkins-contract-read-token', permissions: [] };
const WRITER: SimUser = { name: 'contract-deployer', apiToken: 'jenkins-contract-write-token', permissions: ['build', 'cancel'] };

/** Jenkins knows accounts, not tokens: the read account is the read credential, the write account the write one. */
function credentialOf(r: AuthRecord): CredentialRecord['credential'] {
  if (r.refused === 'anonymous') return 'none';
  if (r.refused !== undefined) return 'other';
  return r.user === READER.name ? 'read' : r.user === WRITER.name ? 'write' : 'other';
}

/** A reader with Overall/Read and Job/Read only, and a deployer with Job/Build and Job/Cancel. */
async function startActionWorld(): Promise<ActionWorld> {
  const sim = createJenkinsSimulator({ users: [READER, WRITER], seed: 15, history: 0 });
  await sim.start();
  const stages = [{ name: 'Compile', steps: ['Shell Script', 'Shell Script'] }, { name: 'Test', steps: ['Shell Script'] }];
  const latest = () => sim.world.builds(JOB)[0];
  await sim.triggerBuild({ job: JOB, stages, result: 'FAILURE' });
  await sim.runUntilIdle();
  const finished = latest()!;
  await sim.triggerBuild({ job: JOB, stages });
  // Out of the queue onto an executor, then into its first stage (a Pipeline has no jobs before one starts).
  const started = () => latest() !== finished && latest()!.stages.length > 0;
  for (let i = 0; i < 10 && !started(); i++) await sim.step();
  const running = latest()!;
  if (finished.building || !running.building || running === finished || running.stages.length === 0) throw new Error('jenkins action world: builds not as expected');
  return {
    // actionFollowMs 0: a trigger does not wait for its queue item to become a build.
    backend: { url: sim.url, user: READER.name, apiToken: { value: READER.apiToken }, requestsPerMinute: 10_000, actionFollowMs: 0 },
    writeCredentials: { writeUser: WRITER.name, writeToken: { value: WRITER.apiToken } },
    runningPipeline: formatPipelineId(JOB, running.number),
    finishedPipeline: formatPipelineId(JOB, finished.number),
    unknownPipeline: formatPipelineId(JOB, 999_999),
    step: () => sim.step(),
    credentialLog: () => sim.authLog.map((r) => ({ method: r.method, path: r.path, credential: credentialOf(r) })),
    stop: () => sim.stop(),
  };
}

/**
 * The logs contract's world: consoles hold only what the test appends ('exact'). A job is the
 * one stage of a Pipeline build, left running (never stepped) until `finish` steps that build
 * to its end; its log is the build's console, as for every stage.
 */
async function startLogWorld(): Promise<LogWorld> {
  const sim = createJenkinsSimulator({ users: [READER], seed: 17, history: 0, logs: 'exact' });
  await sim.start();
  const buildOf = (jobNativeId: string) => {
    const ref = parseJobId(jobNativeId);
    if (!ref || ref.fullName !== JOB) throw new Error(`jenkins log world: not one of its jobs: ${jobNativeId}`);
    return ref.number;
  };
  return {
    backend: { url: sim.url, user: READER.name, apiToken: { value: READER.apiToken }, requestsPerMinute: 10_000 },
    async startJob() {
      const before = sim.world.builds(JOB)[0];
      await sim.triggerBuild({ job: JOB, stages: [{ name: 'Build', steps: ['Shell Script'] }] });
      const latest = () => sim.world.builds(JOB)[0];
      // Onto an executor, then into its stage: nothing else runs in this world, so each step is this build's.
      const inStage = () => latest() !== before && latest()!.stages[0]?.status === 'IN_PROGRESS';
      for (let i = 0; i < 10 && !inStage(); i++) await sim.step();
      const build = latest()!;
      if (!inStage()) throw new Error('jenkins log world: the build did not reach its stage');
      return formatStageJobId(JOB, build.number, build.stages[0]!.id);
    },
    async append(jobNativeId, text) {
      sim.appendLog(JOB, buildOf(jobNativeId), text);
    },
    async finish(jobNativeId) {
      const number = buildOf(jobNativeId);
      for (let i = 0; i < 20 && (await sim.advanceBuild(JOB, number)); i++);
      if (sim.world.builds(JOB).find((b) => b.number === number)?.building !== false) throw new Error(`jenkins log world: ${jobNativeId} did not finish`);
    },
    logRequests: (jobNativeId) => sim.logRequests(JOB, buildOf(jobNativeId)),
    unknownJob: formatStageJobId(JOB, 999_999, '6'),
    stop: () => sim.stop(),
  };
}

const kit: AdapterTestingKit = {
  provider: 'jenkins',
  // The documented values come from status-map.ts, so a value added there without a pinned sample fails the suite.
  statuses: {
    tables: {
      'build result': [...JENKINS_RESULTS, 'null (building)'], 'wfapi stage status': WFAPI_STATUSES,
      'wfapi FAILED error.type (lost agent)': AGENT_LOSS_ERROR_TYPES, 'ABORTED stage, build interrupted by (lost agent)': AGENT_REMOVED_CAUSES,
    },
    samples,
  },
  lifecycles,
  offlineConfig: { url: 'http://127.0.0.1:9', user: USER, apiToken: { value: API_TOKEN }, notifySecret: { value: NOTIFY } },
  webhook: {
    config: { notifySecret: { value: NOTIFY } },
    body: Buffer.from(JSON.stringify({ name: JOB, url: 'job/team-a/job/service/', build: { number: 7, phase: 'STARTED', url: 'job/team-a/job/service/7/' } })),
    // The Notification plugin signs nothing: its credential is a shared secret; the delivery id is read from the body.
    sign: (body, _deliveryId, _atMs, secret) => ({ rawBody: body, headers: { 'content-type': 'application/json', [TOKEN_HEADER]: secret ?? NOTIFY } }),
    bodyIntegrity: { unsupported: 'the Notification plugin sends a shared secret, not a signature; the body is only a hint confirmed upstream' },
    replayWindowMs: { unsupported: 'Notification plugin posts carry no time; a push is only a hint the gateway confirms upstream' },
  },
  startUpstream,
  unknownIds: { pipelines: ['team-a/service#999999', 'outside/job#1'], jobs: ['team-a/service#999999/stage/1'], projects: ['no-such-folder/job'] },
  // `POST …/stop` on a finished build answers like on a running one; the adapter reads the build first and refuses.
  actions: { startWorld: startActionWorld, refusesCancelOfFinished: true },
  // progressiveText serves the console while the build runs.
  logs: { whileRunning: 'LIVE', startWorld: startLogWorld },
};

export default kit;
