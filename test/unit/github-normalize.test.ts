import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES, compareRevisions, RUNNER_STATES, type EntityModel, type JobModel, type PipelineModel } from '../../src/model.ts';
import { GithubPayloadError } from '../../adapters/github/fields.ts';
import { hostedRunnerOf, toJob, toPipeline, toProject, toRunner } from '../../adapters/github/normalize.ts';
import { mapJobStatus, mapRunStatus } from '../../adapters/github/status-map.ts';
import type { JobPayload, RunnerPayload, RunPayload } from '../../adapters/github/upstream-types.ts';
import { normalizeEvent } from '../../adapters/github/webhooks.ts';

type Json = Record<string, unknown>;
const readJson = (rel: string): unknown => JSON.parse(readFileSync(new URL(`../../node_modules/${rel}`, import.meta.url), 'utf8'));

const webhookIndex = readJson('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Json[] }>;
const examplesOf = (name: string): Json[] => webhookIndex.find((e) => e.name === name)?.examples ?? [];
const restExamples = (readJson('@octokit/openapi/generated/api.github.com.json') as { components: { examples: Record<string, { value: unknown }> } })
  .components.examples;
const rest = (name: string): Json => restExamples[name]!.value as Json;

function assertValid(e: EntityModel): void {
  expect(e.backend).toBe('gh');
  expect(e.nativeId.length).toBeGreaterThan(0);
  for (const n of e.revision) expect(Number.isFinite(n)).toBe(true);
  if (e.type === 'Pipeline' || e.type === 'Job') {
    expect(CI_STATUSES).toContain(e.status);
    expect(e.waitReason !== null).toBe(e.status === 'WAITING');
    expect(e.native.provider).toBe('github');
    for (const t of [e.createdAt, e.queuedAt, e.startedAt, e.finishedAt]) if (t !== null) expect(new Date(t).toISOString()).toBe(t);
  }
  if (e.type === 'Job') for (const s of e.steps) expect(CI_STATUSES).toContain(s.status);
  if (e.type === 'Runner') expect(RUNNER_STATES).toContain(e.state);
}

describe('webhook examples (@octokit/webhooks-examples)', () => {
  const runs = examplesOf('workflow_run');
  const jobs = examplesOf('workflow_job');

  it('has the expected fixtures', () => {
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(jobs.length).toBeGreaterThanOrEqual(8);
  });

  it.each(runs.map((p, i) => [i, p] as const))('workflow_run example %i → one valid Pipeline', (_, payload) => {
    const out = normalizeEvent('gh', 'workflow_run', payload);
    expect(out).toHaveLength(1);
    const p = out[0] as PipelineModel;
    const run = payload.workflow_run as Json;
    const repo = String((payload.repository as Json).full_name).toLowerCase();
    assertValid(p);
    expect(p.type).toBe('Pipeline');
    expect(p.nativeId).toBe(`${repo}/runs/${String(run.id)}`);
    expect(p.projectNativeId).toBe(repo);
    expect(p.status).toBe(mapRunStatus(run.status, run.conclusion).status);
    expect(p.native.status).toBe(run.status);
    expect(p.number).toBe(run.run_number);
    expect(p.title).toBe(run.display_title ?? null);
    expect(p.commitSha).toBe(run.head_sha);
    expect(p.branch).toBe(run.head_branch);
    expect(p.ref).toBe(`refs/heads/${String(run.head_branch)}`);
    if (p.status === 'QUEUED') expect(p.startedAt).toBeNull();
    if (p.status === 'SUCCESS') expect(p.finishedAt).toBe(new Date(String(run.updated_at)).toISOString());
    if (run.actor) expect(p.actor?.login).toBe(((run.triggering_actor ?? run.actor) as Json).login);
  });

  it.each(jobs.map((p, i) => [i, p] as const))('workflow_job example %i → one valid Job', (_, payload) => {
    const out = normalizeEvent('gh', 'workflow_job', payload);
    expect(out).toHaveLength(1);
    const j = out[0] as JobModel;
    const job = payload.workflow_job as Json;
    const repo = String((payload.repository as Json).full_name).toLowerCase();
    assertValid(j);
    expect(j.type).toBe('Job');
    expect(j.nativeId).toBe(`${repo}/jobs/${String(job.id)}`);
    expect(j.pipelineNativeId).toBe(`${repo}/runs/${String(job.run_id)}`);
    expect(j.status).toBe(mapJobStatus(job.status, job.conclusion).status);
    expect(j.labels).toEqual(job.labels);
    expect(j.steps).toHaveLength((job.steps as unknown[]).length);
    if (job.status === 'queued' || job.status === 'waiting') {
      // GitHub pre-fills started_at (= created_at) and examples carry junk runner ids.
      expect(j.startedAt).toBeNull();
      expect(j.runnerNativeId).toBeNull();
    } else if (job.runner_group_name === 'GitHub Actions') {
      // GitHub-hosted (group "GitHub Actions", id 2 in these older examples): named by the job, built from it.
      expect(j.runnerNativeId).toBe(`${j.nativeId}/runner`);
      expect(hostedRunnerOf(j)).toMatchObject({ nativeId: j.runnerNativeId, name: job.runner_name, labels: job.labels, hosted: true, scope: 'INSTANCE' });
    } else if (job.runner_id != null) {
      expect(j.runnerNativeId).toBe(String(job.runner_id));
      expect(hostedRunnerOf(j)).toBeNull();
    }
  });

  it('ignores ping and unrelated events, and broken payloads', () => {
    for (const ping of examplesOf('ping')) expect(normalizeEvent('gh', 'ping', ping)).toEqual([]);
    expect(normalizeEvent('gh', 'push', examplesOf('push')[0])).toEqual([]);
    expect(normalizeEvent('gh', undefined, {})).toEqual([]);
    expect(normalizeEvent('gh', 'workflow_run', null)).toEqual([]);
    expect(normalizeEvent('gh', 'workflow_run', { workflow_run: { status: 'queued' } })).toEqual([]);
    expect(normalizeEvent('gh', 'workflow_job', { workflow_job: 'nope' })).toEqual([]);
    expect(normalizeEvent('gh', 'workflow_job', [1, 2])).toEqual([]);
  });

  it('drops repositories outside the backend', () => {
    const payload = jobs[0]!;
    expect(normalizeEvent('gh', 'workflow_job', payload, () => false)).toEqual([]);
  });
});

describe('REST examples (@octokit/openapi components.examples)', () => {
  it('workflow-run', () => {
    const p = toPipeline('gh', rest('workflow-run') as unknown as RunPayload);
    assertValid(p);
    // The example's `repository` (octocat/Hello-World) disagrees with its URLs
    // (octo-org/octo-repo); the repository object wins, as in real payloads.
    expect(p).toMatchObject({
      nativeId: 'octocat/hello-world/runs/30433642',
      projectNativeId: 'octocat/hello-world',
      number: 562,
      name: 'Build',
      status: 'QUEUED',
      waitReason: null,
      attempt: 1,
      branch: 'main',
      ref: 'refs/heads/main',
      event: 'push',
      startedAt: null,
      finishedAt: null,
      revision: [1, 0, Date.parse('2020-01-22T19:33:08Z')],
    });
    // The example's triggering_actor is a bare string: fall back to actor.
    expect(p.actor?.login).toBe('octocat');
  });

  it('workflow-run-paginated', () => {
    const runs = (rest('workflow-run-paginated').workflow_runs as RunPayload[]).map((r) => toPipeline('gh', r));
    expect(runs.length).toBeGreaterThan(0);
    runs.forEach(assertValid);
  });

  it('job', () => {
    const j = toJob('gh', rest('job') as unknown as JobPayload);
    assertValid(j);
    expect(j).toMatchObject({
      nativeId: 'octo-org/octo-repo/jobs/399444496',
      pipelineNativeId: 'octo-org/octo-repo/runs/29679449',
      status: 'SUCCESS',
      runnerNativeId: '1',
      runnerName: 'my runner',
      labels: ['self-hosted', 'foo', 'bar'],
      startedAt: '2020-01-20T17:42:40.000Z',
      finishedAt: '2020-01-20T17:44:39.000Z',
      branch: 'main',
    });
    expect(j.steps).toHaveLength(10);
    // Step times carry a -08:00 offset upstream; we normalize to UTC.
    expect(j.steps[0]).toMatchObject({ number: 1, name: 'Set up job', status: 'SUCCESS', startedAt: '2020-01-20T17:42:40.000Z' });
  });

  it('job on a GitHub-hosted runner (github.com today: group id 0) → a runner built from the job', () => {
    // The runner fields as github.com sends them for a hosted job (REST and workflow_job alike).
    const hosted = { runner_id: 1000018028, runner_name: 'GitHub Actions 1000018028', runner_group_id: 0, runner_group_name: 'GitHub Actions' };
    const base = { ...rest('job'), ...hosted, labels: ['ubuntu-latest'] };
    const running = toJob('gh', { ...base, status: 'in_progress', conclusion: null, completed_at: null } as unknown as JobPayload);
    const done = toJob('gh', base as unknown as JobPayload);
    expect(running.runnerNativeId).toBe('octo-org/octo-repo/jobs/399444496/runner');
    expect(done.runnerNativeId).toBe(running.runnerNativeId);
    expect(hostedRunnerOf(running)).toMatchObject({
      nativeId: running.runnerNativeId, name: 'GitHub Actions 1000018028', labels: ['ubuntu-latest'], os: 'Linux',
      state: 'BUSY', currentJobNativeId: running.nativeId, hosted: true, ephemeral: true, scope: 'INSTANCE',
    });
    // The VM is discarded after its one job.
    expect(hostedRunnerOf(done)).toMatchObject({ state: 'OFFLINE', currentJobNativeId: null });
    expect(compareRevisions(hostedRunnerOf(done)!.revision, hostedRunnerOf(running)!.revision)).toBeGreaterThan(0);
    // Group id 0 alone is enough; a self-hosted group is not.
    expect(toJob('gh', { ...base, runner_group_name: null } as unknown as JobPayload).runnerNativeId).toBe(running.runnerNativeId);
    expect(toJob('gh', { ...base, runner_group_id: 1, runner_group_name: 'Default' } as unknown as JobPayload).runnerNativeId).toBe('1000018028');
  });

  it('runner', () => {
    const r = toRunner('gh', rest('runner') as unknown as RunnerPayload, 'ORGANIZATION', 1234);
    assertValid(r);
    expect(r).toMatchObject({
      nativeId: '23', name: 'MBP', state: 'BUSY', paused: false, os: 'macos', scope: 'ORGANIZATION',
      ephemeral: false, version: '2.323.0', labels: ['self-hosted', 'X64', 'macOS', 'no-gpu'], revision: [1234],
      native: { provider: 'github', status: 'online', conclusion: 'busy', failureReason: null },
    });
  });

  it('repository', () => {
    const p = toProject('gh', rest('full-repository') as never);
    expect(p).toMatchObject({ type: 'Project', nativeId: 'octocat/hello-world', fullName: 'octocat/Hello-World', name: 'Hello-World', defaultBranch: 'master' });
  });
});

describe('revisions', () => {
  const base = { id: 7, run_id: 9, url: 'https://api.github.com/repos/o/r/actions/jobs/7', name: 'build', created_at: '2024-01-01T00:00:00Z' };
  const job = (extra: Json) => toJob('gh', { ...base, ...extra } as unknown as JobPayload);

  it('a late queued compares older than in_progress (webhook examples)', () => {
    const jobs = examplesOf('workflow_job').filter((p) => (p.workflow_job as Json).id === 289782451);
    const queued = normalizeEvent('gh', 'workflow_job', jobs.find((p) => p.action === 'queued'))[0]!;
    const running = normalizeEvent('gh', 'workflow_job', jobs.find((p) => p.action === 'in_progress'))[0]!;
    const done = normalizeEvent('gh', 'workflow_job', jobs.find((p) => p.action === 'completed'))[0]!;
    expect(compareRevisions(queued.revision, running.revision)).toBeLessThan(0);
    expect(compareRevisions(running.revision, done.revision)).toBeLessThan(0);
  });

  it('orders the job lifecycle, with holds above queued and step progress inside a phase', () => {
    const queued = job({ status: 'queued', started_at: '2024-01-01T00:00:00Z' });
    const waiting = job({ status: 'waiting' });
    const running = job({ status: 'in_progress', started_at: '2024-01-01T00:01:00Z', steps: [{ number: 1, name: 'a', status: 'in_progress' }] });
    const further = job({
      status: 'in_progress', started_at: '2024-01-01T00:01:00Z',
      steps: [{ number: 1, name: 'a', status: 'completed', conclusion: 'success' }, { number: 2, name: 'b', status: 'in_progress' }],
    });
    const done = job({ status: 'completed', conclusion: 'success', started_at: '2024-01-01T00:01:00Z', completed_at: '2024-01-01T00:02:00Z' });
    const chain = [queued, waiting, running, further, done];
    for (let i = 1; i < chain.length; i++) expect(compareRevisions(chain[i - 1]!.revision, chain[i]!.revision)).toBeLessThan(0);
  });

  it('orders runs by attempt, then phase, then updated_at', () => {
    const run = (extra: Json) => toPipeline('gh', { id: 1, url: 'https://api.github.com/repos/o/r/actions/runs/1', created_at: '2024-01-01T00:00:00Z', ...extra } as unknown as RunPayload);
    const a1done = run({ run_attempt: 1, status: 'completed', conclusion: 'failure', updated_at: '2024-01-01T00:10:00Z' });
    const a2queued = run({ run_attempt: 2, status: 'queued', updated_at: '2024-01-01T00:11:00Z' });
    const a2lateRunningFromA1 = run({ run_attempt: 1, status: 'in_progress', updated_at: '2024-01-01T00:05:00Z' });
    const pendingAfterQueued = run({ run_attempt: 2, status: 'pending', updated_at: '2024-01-01T00:12:00Z' });
    expect(compareRevisions(a1done.revision, a2queued.revision)).toBeLessThan(0);
    expect(compareRevisions(a2lateRunningFromA1.revision, a1done.revision)).toBeLessThan(0);
    expect(compareRevisions(a2queued.revision, pendingAfterQueued.revision)).toBeLessThan(0);
  });
});

describe('normalizers are total over mutated payloads', () => {
  const junk = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.double());

  /** Randomly nulls, deletes or replaces top-level fields (and step fields). */
  function mutate(base: Json) {
    const keys = Object.keys(base);
    return fc.array(fc.tuple(fc.constantFrom(...keys), fc.oneof(fc.constant('delete' as const), junk)), { maxLength: keys.length }).map((edits) => {
      const copy: Json = structuredClone(base);
      for (const [k, v] of edits) {
        if (v === 'delete') delete copy[k];
        else copy[k] = v;
      }
      return copy;
    });
  }

  const check = (fn: () => EntityModel) => {
    let out: EntityModel;
    try {
      out = fn();
    } catch (error) {
      // The only allowed failure: nothing left to name the entity by.
      expect(error).toBeInstanceOf(GithubPayloadError);
      return;
    }
    assertValid(out);
  };

  const jobExamples = [rest('job'), ...examplesOf('workflow_job').map((p) => p.workflow_job as Json)];
  const runExamples = [rest('workflow-run'), ...examplesOf('workflow_run').map((p) => p.workflow_run as Json)];

  it('jobs', () => {
    fc.assert(fc.property(fc.constantFrom(...jobExamples).chain(mutate), fc.option(fc.constantFrom('o/r', 'bad name', '')), (j, repo) => {
      check(() => toJob('gh', j as unknown as JobPayload, repo));
    }), { numRuns: 500 });
  });

  it('runs', () => {
    fc.assert(fc.property(fc.constantFrom(...runExamples).chain(mutate), (r) => {
      check(() => toPipeline('gh', r as unknown as RunPayload));
    }), { numRuns: 500 });
  });

  it('runners', () => {
    fc.assert(fc.property(mutate(rest('runner')), fc.double(), (r, at) => {
      check(() => toRunner('gh', r as unknown as RunnerPayload, 'REPOSITORY', at));
    }), { numRuns: 300 });
  });

  it('is pure: same input, same output, input untouched', () => {
    const input = rest('job');
    const before = JSON.stringify(input);
    expect(toJob('gh', input as unknown as JobPayload)).toEqual(toJob('gh', input as unknown as JobPayload));
    expect(JSON.stringify(input)).toBe(before);
  });

  it('webhook normalize never throws on mutated payloads', () => {
    const payloads = [...examplesOf('workflow_job'), ...examplesOf('workflow_run')];
    fc.assert(fc.property(fc.constantFrom(...payloads).chain(mutate), fc.constantFrom('workflow_job', 'workflow_run', 'ping'), (p, ev) => {
      const out = normalizeEvent('gh', ev, p);
      out.forEach(assertValid);
    }), { numRuns: 300 });
  });
});
