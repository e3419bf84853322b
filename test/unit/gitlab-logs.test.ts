/**
 * GitLab job logs in the adapter (adapters/gitlab/logs.ts): the offset slicing returns exactly the
 * bytes after any offset (pure, and end to end through the simulator's trace), raw bytes never
 * decoded, null only for a job GitLab does not know, the signal reaching a request in flight, and
 * an availability that says LIVE only where GitLab serves a log.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import gitlabAdapter, { type GitlabAdapter } from '../../adapters/gitlab/index.ts';
import { bytesAfter, gitlabLogAvailability } from '../../adapters/gitlab/logs.ts';
import { BRIDGE_LABEL } from '../../adapters/gitlab/normalize.ts';
import { formatJobId } from '../../adapters/gitlab/native-ids.ts';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import type { JobModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';

const TOKEN = 'glpat-logs-unit-token-0123456789';

describe('bytesAfter (pure)', () => {
  it('gives exactly the bytes after any offset, a copy that never pins the whole trace', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.integer({ min: -5, max: 600 }), (whole, offset) => {
        const after = bytesAfter(whole, offset);
        const from = Math.min(Math.max(0, offset), whole.length);
        expect(Buffer.from(after).equals(Buffer.from(whole.subarray(from)))).toBe(true);
        // Read before + after is the whole, with no gap and no duplicate.
        expect(Buffer.concat([whole.subarray(0, from), after]).equals(Buffer.from(whole))).toBe(true);
        if (after.length > 0) expect(after.buffer).not.toBe(whole.buffer);
      }),
      { numRuns: 500 },
    );
  });

  it('treats an offset past the end as nothing new, even a non-integer or infinite one', () => {
    const whole = Buffer.from('abc');
    expect(bytesAfter(whole, 1.7).length).toBe(2);
    expect(bytesAfter(whole, Infinity).length).toBe(0);
    expect(bytesAfter(whole, Number.NaN).length).toBe(3);
  });
});

describe('GitLab adapter logs over the simulator', () => {
  let sim: GitlabSimulator;
  let adapter: GitlabAdapter;
  let project: number;

  beforeAll(async () => {
    sim = createGitlabSimulator({
      token: TOKEN, seed: 23, history: 0,
      runners: [{ description: 'logs', tags: [], type: 'instance_type', concurrent: 100 }],
    });
    await sim.start();
    project = sim.world.projects().find((p) => p.path === 'backend')!.id;
    // A request timeout far beyond the abort test's own timeout: only the signal can end a held request in time.
    const config = gitlabAdapter.configSchema.parse({
      url: sim.url, token: { value: TOKEN }, groups: [sim.world.group], runners: { scope: 'none' }, requestTimeoutMs: 120_000,
    });
    adapter = gitlabAdapter.create(config, contractContext('gl-logs')) as GitlabAdapter;
  });
  afterAll(async () => {
    await adapter?.dispose();
    await sim?.stop();
  });

  const runningJob = async (): Promise<number> => {
    const { jobIds: [id] } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'logged', stage: 'test' }] });
    for (let i = 0; i < 10 && sim.world.jobs().find((j) => j.id === id)?.status !== 'running'; i++) await sim.step();
    sim.logs.startEmpty(id!);
    return id!;
  };
  const read = (jobId: number, offset: number) => adapter.logs!.read(formatJobId(project, jobId), offset, AbortSignal.timeout(10_000));

  it('returns exactly the raw bytes after any offset of a growing trace, never complete', async () => {
    const id = await runningJob();
    let written = Buffer.alloc(0);
    // Multi-byte characters, ANSI codes and GitLab's \r\e[0K: offsets may fall inside a character.
    const piece = fc.string({ unit: fc.constantFrom('a', '\n', 'ö', '✓', '🚀', '\u001b[32m', '\r\u001b[0K'), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(piece, fc.nat(), async (text, pick) => {
        sim.logs.append(id, text);
        written = Buffer.concat([written, Buffer.from(text, 'utf8')]);
        const offset = pick % (written.length + 3);
        const got = (await read(id, offset))!;
        expect(got.complete).toBe(false);
        expect(Buffer.from(got.bytes).equals(written.subarray(Math.min(offset, written.length)))).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(adapter.stats.bytesRead).toBeGreaterThan(0);
  });

  it('answers null for an unknown job, a trigger job and an id outside the scope; empty bytes for a job not started', async () => {
    expect(await read(999_999, 0)).toBeNull();
    expect(await adapter.logs!.read('not-a-job', 0, AbortSignal.timeout(5_000))).toBeNull();
    expect(await adapter.logs!.read(formatJobId(1, 5), 0, AbortSignal.timeout(5_000))).toBeNull();
    const { jobIds } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'later', stage: 'deploy', when: 'manual' }], downstream: true });
    await sim.step();
    const bridge = sim.world.jobs().find((j) => jobIds.includes(j.id) && j.kind === 'bridge')!;
    expect(await read(bridge.id, 0)).toBeNull();
    const manual = await read(jobIds[0]!, 0);
    expect(manual).not.toBeNull();
    expect(manual!.bytes.length).toBe(0);
  });

  it('aborts a request in flight when the signal fires', { timeout: 8_000 }, async () => {
    const id = await runningJob();
    sim.setFault({ hang: true, match: /\/trace$/ });
    try {
      const controller = new AbortController();
      const aborted = adapter.logs!.read(formatJobId(project, id), 0, controller.signal);
      // Wait until the held request reached the simulator: only a signal on the request can end it.
      for (let i = 0; i < 200 && !sim.requests.some((r) => r.status === 0 && r.path.endsWith(`/${id}/trace`)); i++) await new Promise((r) => setTimeout(r, 10));
      controller.abort(new Error('deadline'));
      await expect(aborted).rejects.toThrow('deadline');
    } finally {
      sim.setFault(null);
    }
  });
});

describe('gitlabLogAvailability', () => {
  const job = (over: Partial<JobModel>): JobModel => ({
    type: 'Job', backend: 'gl', nativeId: '42/jobs/1', revision: [0, 0], projectNativeId: '42', pipelineNativeId: '42/pipelines/9',
    name: 'unit', status: 'RUNNING', waitReason: null, native: { provider: 'gitlab', status: 'running', conclusion: null, failureReason: null },
    attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: 'main', createdAt: null, queuedAt: null,
    startedAt: '2026-01-01T00:00:00Z', finishedAt: null, steps: [], ...over,
  });

  it.each<{ label: string; over: Partial<JobModel>; kind: string }>([
    { label: 'running', over: { status: 'RUNNING' }, kind: 'LIVE' },
    { label: 'canceling (the runner still uploads)', over: { status: 'CANCELING' }, kind: 'LIVE' },
    { label: 'finished after running', over: { status: 'FAILURE', finishedAt: '2026-01-01T00:05:00Z' }, kind: 'LIVE' },
    { label: 'waiting for a callback after its script', over: { status: 'WAITING', waitReason: 'CALLBACK' }, kind: 'LIVE' },
    { label: 'pending', over: { status: 'QUEUED', startedAt: null }, kind: 'NONE' },
    { label: 'manual', over: { status: 'WAITING', waitReason: 'MANUAL', startedAt: null }, kind: 'NONE' },
    { label: 'skipped', over: { status: 'SKIPPED', startedAt: null }, kind: 'NONE' },
    { label: 'canceled before it started', over: { status: 'CANCELED', startedAt: null }, kind: 'NONE' },
    { label: 'a trigger job', over: { status: 'RUNNING', labels: [BRIDGE_LABEL] }, kind: 'NONE' },
  ])('$label → $kind', ({ over, kind }) => {
    const availability = gitlabLogAvailability(job(over));
    expect(availability.kind).toBe(kind);
    expect(availability.reason).toMatch(/^[A-Z].+\.$/);
  });
});
