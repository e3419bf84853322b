import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionCall, ActionKind, ActionRequest, BackendActions, BackendAdapter } from '../../src/adapter-contract.ts';
import type { ActionWorld, ActionsKit, CredentialRecord } from '../../src/adapter-testing.ts';
import { ActionRefusal, ActionRefusedError } from '../../src/errors.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { createAdapter } from './adapter-context.ts';
import { contractSubjects, type ContractSubject } from './kits.ts';

/**
 * The actions contract (ADAPTERS.md §13) over every adapter whose kit has an action world
 * (its simulator, or fake server, with read and write credentials): actions only with write
 * credentials, `supported` complete, `plan` pure, writes with the write credentials only and
 * reads with the read ones (the simulator's credential log), typed refusals naming the
 * backend, and a cancel the adapter's own reads see within a few simulator steps.
 */
const subjects = await contractSubjects();
const BACKEND = 'contract-actions';
/** Simulator steps an accepted cancel may take before the adapter's reads show CANCELING or CANCELED. */
const CANCEL_STEPS = 5;
const signal = new AbortController().signal;

/** Every ActionKind, checked by the compiler both ways (a kind added to ActionRequest fails to compile here). */
const KIND_SET = {
  cancelPipeline: true, cancelJob: true, retryPipeline: true, retryJob: true, triggerPipeline: true, approve: true, reject: true,
} as const satisfies Record<ActionKind, true>;
const KINDS = Object.keys(KIND_SET) as ActionKind[];

const actionsKitOf = (s: ContractSubject): ActionsKit | null => ('unsupported' in s.kit.actions ? null : s.kit.actions);
const withActions = subjects.filter((s) => actionsKitOf(s) !== null);

/** Every secret value in a backends[] entry (`{ value }` references, at any depth). */
function secretsIn(config: unknown): string[] {
  if (config === null || typeof config !== 'object') return [];
  const values = Object.entries(config as Record<string, unknown>).flatMap(([key, v]) => (key === 'value' && typeof v === 'string' ? [v] : secretsIn(v)));
  return values;
}

const shown = (log: readonly CredentialRecord[]) => log.map((r) => `${r.credential} ${r.method} ${r.path}`).join('\n');

describe.each(subjects)('actions kit: $provider', (subject) => {
  it('declares an action world, or why the provider has no actions', () => {
    const declared = subject.kit.actions;
    if ('unsupported' in declared) expect(declared.unsupported.trim().length).toBeGreaterThan(0);
    else expect(typeof declared.startWorld).toBe('function');
  });
});

describe.each(withActions)('actions: $provider', (subject) => {
  const kit = actionsKitOf(subject)!;
  let world: ActionWorld;
  let adapter: BackendAdapter;
  let actions: BackendActions;
  let secrets: string[];
  let running: PipelineModel;
  let finished: PipelineModel;
  let runningJobs: readonly JobModel[];
  let finishedJobs: readonly JobModel[];

  const mark = () => world.credentialLog().length;
  const since = (at: number) => world.credentialLog().slice(at);

  /** Runs `act` (an action), then holds every request it sent to the write credentials. */
  async function acting<T>(act: () => Promise<T>): Promise<{ result?: T; error?: unknown; sent: CredentialRecord[] }> {
    const at = mark();
    const out = await act().then((result) => ({ result }), (error: unknown) => ({ error }));
    const sent = since(at);
    expect(sent.filter((r) => r.credential !== 'write'), `${subject.provider}: an action sent a request without the write credentials:\n${shown(sent)}`).toEqual([]);
    return { ...out, sent };
  }

  /** Runs `read` (batch functions), then holds every request it sent to the read credentials. */
  async function reading<T>(read: () => Promise<T>): Promise<T> {
    const at = mark();
    const result = await read();
    const sent = since(at);
    expect(sent.filter((r) => r.credential !== 'read'), `${subject.provider}: a read sent a request without the read credentials:\n${shown(sent)}`).toEqual([]);
    return result;
  }

  function expectCleanPath(call: ActionCall): void {
    expect(call.path.startsWith('/'), `a path below the backend's url: ${call.path}`).toBe(true);
    for (const secret of secrets) expect(call.path, 'an ActionCall path carries a credential').not.toContain(secret);
    expect(call.path).not.toMatch(/[?&](?:token|private_token|access_token|api_key|apikey|password)=/i);
  }

  /** A refusal: an ActionRefusedError naming this backend with `reason`, never a plain Error, no credential in it. */
  function expectRefusal(error: unknown, reason?: ActionRefusal): ActionRefusedError {
    expect(error, `expected an ActionRefusedError, got ${String(error)}`).toBeInstanceOf(ActionRefusedError);
    const refusal = error as ActionRefusedError;
    expect(refusal.backend).toBe(BACKEND);
    if (reason !== undefined) expect(refusal.reason, refusal.message).toBe(reason);
    for (const secret of secrets) {
      expect(refusal.message).not.toContain(secret);
      expect(refusal.details.path ?? '').not.toContain(secret);
    }
    return refusal;
  }

  async function pipeline(nativeId: string): Promise<PipelineModel> {
    const [p] = await reading(() => adapter.batch.pipelines([nativeId]));
    if (!p || p instanceof Error) throw new Error(`${subject.provider}: pipeline ${nativeId} did not load: ${String(p)}`);
    return p;
  }

  async function jobsOf(nativeId: string): Promise<readonly JobModel[]> {
    const [jobs] = await reading(() => adapter.batch.jobsOfPipelines([nativeId]));
    if (!jobs || jobs instanceof Error) throw new Error(`${subject.provider}: jobs of ${nativeId} did not load: ${String(jobs)}`);
    return jobs;
  }

  /** A request of `kind` on the world's pipelines: the running one to cancel or approve, the finished one to retry. */
  function requestOf(kind: ActionKind): ActionRequest {
    switch (kind) {
      case 'cancelPipeline': return { kind, pipelineNativeId: running.nativeId, force: false };
      case 'cancelJob': return { kind, jobNativeId: runningJobs[0]!.nativeId, force: false };
      case 'retryPipeline': return { kind, pipelineNativeId: finished.nativeId, failedOnly: false };
      case 'retryJob': return { kind, jobNativeId: finishedJobs[0]!.nativeId };
      case 'triggerPipeline': return { kind, projectNativeId: finished.projectNativeId, ref: finished.branch ?? finished.ref ?? 'main', workflow: null, inputs: {} };
      case 'approve':
      case 'reject': return { kind, target: { type: 'Pipeline', nativeId: running.nativeId }, comment: null, inputs: {} };
    }
  }

  beforeAll(async () => {
    world = await kit.startWorld();
    secrets = secretsIn({ ...world.backend, ...world.writeCredentials });
    expect(secrets.length, 'the world names its credentials as { value } references').toBeGreaterThanOrEqual(2);
    adapter = createAdapter(subject, { ...world.backend, ...world.writeCredentials }, BACKEND);
    actions = adapter.actions!;
    running = await pipeline(world.runningPipeline);
    finished = await pipeline(world.finishedPipeline);
    runningJobs = await jobsOf(running.nativeId);
    finishedJobs = await jobsOf(finished.nativeId);
    expect(running.finishedAt, 'the running pipeline has not finished').toBeNull();
    expect(finished.finishedAt, 'the finished pipeline has finished').not.toBeNull();
    expect(runningJobs.length * finishedJobs.length, 'both pipelines have jobs').toBeGreaterThan(0);
  });
  afterAll(async () => {
    await adapter?.dispose();
    await world?.stop();
  });

  it('offers actions with the write credentials and none without them', async () => {
    expect(actions).toBeDefined();
    const readOnly = createAdapter(subject, world.backend, `${BACKEND}-ro`);
    try {
      expect(readOnly.actions).toBeUndefined();
    } finally {
      await readOnly.dispose();
    }
  });

  it('supported: a boolean for every ActionKind and nothing else', () => {
    expect(Object.keys(actions.supported).sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) expect(typeof actions.supported[kind], kind).toBe('boolean');
  });

  it('plan is pure: no request, the same calls every time and whatever the world did, no credential in a path', async () => {
    const planAll = () => KINDS.map((kind) => {
      try {
        return { kind, calls: actions.plan(requestOf(kind)) };
      } catch (error) {
        return { kind, refused: expectRefusal(error).reason };
      }
    });
    // Barrier: a read sent after the plans arrives after anything they sent, so the log must hold that read alone.
    const sentinel = async () => {
      const at = mark();
      await adapter.batch.pipelines([finished.nativeId]);
      return shown(since(at));
    };
    const expected = await sentinel();
    const at = mark();
    const first = planAll();
    const again = planAll();
    await adapter.batch.pipelines([finished.nativeId]);
    expect(shown(since(at)), 'plan() sent requests').toBe(expected);
    expect(again).toEqual(first);
    for (const { calls } of first) for (const call of calls ?? []) {
      expectCleanPath(call);
      expect(call.status, 'a planned call has no status').toBeUndefined();
    }
    // No state: the world moving on does not change a plan.
    await world.step();
    const at2 = mark();
    expect(planAll()).toEqual(first);
    await adapter.batch.pipelines([finished.nativeId]);
    expect(shown(since(at2))).toBe(expected);
  });

  it('a kind marked unsupported is refused NOT_SUPPORTED without a write', async () => {
    for (const kind of KINDS.filter((k) => !actions.supported[k])) {
      const { error, sent } = await acting(() => actions.perform(requestOf(kind), signal));
      expectRefusal(error, ActionRefusal.NotSupported);
      expect(sent.filter((r) => r.method !== 'GET'), `${kind} sent a write`).toEqual([]);
    }
  });

  it('cancelPipeline of a finished pipeline is refused ALREADY_FINISHED (or the kit says why it cannot be)', async () => {
    const { error, result } = await acting(() => actions.perform({ kind: 'cancelPipeline', pipelineNativeId: finished.nativeId, force: false }, signal));
    if (kit.refusesCancelOfFinished === true) {
      expectRefusal(error, ActionRefusal.AlreadyFinished);
    } else {
      expect(kit.refusesCancelOfFinished.unsupported.trim().length).toBeGreaterThan(0);
      if (error !== undefined) expectRefusal(error);
      for (const call of result?.calls ?? []) expectCleanPath(call);
    }
    expect((await pipeline(finished.nativeId)).status).toBe(finished.status);
  });

  it('an unknown pipeline id is refused NOT_FOUND', async () => {
    const { error } = await acting(() => actions.perform({ kind: 'cancelPipeline', pipelineNativeId: world.unknownPipeline, force: false }, signal));
    expectRefusal(error, ActionRefusal.NotFound);
  });

  it('batch reads carry only the read credentials', async () => {
    const at = mark();
    const ids = [running.nativeId, finished.nativeId];
    await reading(() => adapter.batch.pipelines(ids));
    await reading(() => adapter.batch.jobsOfPipelines(ids));
    await reading(() => adapter.batch.jobs([...runningJobs, ...finishedJobs].map((j) => j.nativeId)));
    if (adapter.batch.pipelineInputs) await reading(() => adapter.batch.pipelineInputs!(ids));
    expect(since(at).length, 'the reads reached the simulator').toBeGreaterThan(0);
  });

  it('cancelPipeline of a running pipeline: write credentials only, then CANCELING or CANCELED through the adapter\'s reads within a few steps', async () => {
    const { result, error } = await acting(() => actions.perform({ kind: 'cancelPipeline', pipelineNativeId: running.nativeId, force: false }, signal));
    expect(error).toBeUndefined();
    expect(result!.calls.length).toBeGreaterThan(0);
    for (const call of result!.calls) expectCleanPath(call);
    expect(result!.pipelineNativeId).toBe(running.nativeId);
    const seen: string[] = [];
    for (let steps = 0; ; steps++) {
      const { status } = await pipeline(running.nativeId);
      seen.push(status);
      if (status === 'CANCELING' || status === 'CANCELED') break;
      expect(steps, `${subject.provider}: still ${seen.join(' → ')} after ${CANCEL_STEPS} simulator steps`).toBeLessThan(CANCEL_STEPS);
      if (!(await world.step())) expect.fail(`${subject.provider}: the world stopped moving at ${seen.join(' → ')}`);
    }
    await reading(() => adapter.batch.jobsOfPipelines([running.nativeId]));
  });

  it('every supported kind: write credentials only, an outcome or an ActionRefusedError naming the backend, clean paths', async () => {
    for (const kind of KINDS.filter((k) => actions.supported[k])) {
      const { result, error } = await acting(() => actions.perform(requestOf(kind), signal));
      if (error !== undefined) {
        const refusal = expectRefusal(error);
        // The world's write credentials are valid: a refusal for permissions means the wrong ones were sent.
        expect(refusal.reason, `${kind}: ${refusal.message}`).not.toBe(ActionRefusal.Forbidden);
      }
      for (const call of result?.calls ?? []) expectCleanPath(call);
    }
  });
});
