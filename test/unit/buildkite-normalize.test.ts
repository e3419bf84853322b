import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRevisions } from '../../src/model.ts';
import { formatJobId, formatPipelineId, parseJobId, parsePipelineId } from '../../adapters/buildkite/native-ids.ts';
import { parseTimeMs } from '../../adapters/buildkite/fields.ts';
import { jobsOfBuild, toJob, toPipeline, toRunner } from '../../adapters/buildkite/normalize.ts';
import { restBuild, restJob } from '../../adapters/buildkite/testing.ts';

const slug = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
const uuid = fc.uuid().map((u) => u.toLowerCase());
const T0 = Date.parse('2026-03-01T10:00:00Z');

describe('Buildkite native ids', () => {
  it('should round-trip pipeline and job ids (property)', () => {
    fc.assert(fc.property(slug, fc.integer({ min: 1, max: 1e9 }), uuid, (s, n, j) => {
      expect(parsePipelineId(formatPipelineId(s, n))).toEqual({ slug: s, number: n });
      expect(parseJobId(formatJobId(s, n, j))).toEqual({ slug: s, number: n, jobId: j });
    }));
  });

  it('should answer null for anything malformed, never throw (property)', () => {
    fc.assert(fc.property(fc.string(), (id) => {
      const p = parsePipelineId(id);
      if (p) expect(formatPipelineId(p.slug, p.number)).toBe(id);
      const j = parseJobId(id);
      if (j) expect(formatJobId(j.slug, j.number, j.jobId)).toBe(id);
    }));
    for (const bad of ['web', 'web/0', 'web/01', 'Web/1', 'web/1/x', 'web/1/2/3', '/1', 'web/-1']) {
      expect(parsePipelineId(bad), bad).toBeNull();
      expect(parseJobId(bad), bad).toBeNull();
    }
  });
});

describe('Buildkite normalize', () => {
  it('should read both timestamp formats (reference §6.10)', () => {
    expect(parseTimeMs('2015-05-09T21:05:59.874Z')).toBe(Date.parse('2015-05-09T21:05:59.874Z'));
    expect(parseTimeMs('2013-09-03 13:24:38 UTC')).toBe(Date.parse('2013-09-03T13:24:38Z'));
    expect(parseTimeMs('yesterday')).toBeNull();
  });

  it('should make a build a pipeline addressed by slug and number', () => {
    const p = toPipeline('bk', restBuild('running', T0));
    expect(p).toMatchObject({
      nativeId: 'web/42', projectNativeId: 'web', number: 42, status: 'RUNNING', title: 'Fix the flaky test',
      branch: 'main', ref: 'refs/heads/main', commitSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', event: 'webhook',
      actor: { login: 'Keith Pitt', url: null, avatarUrl: null }, finishedAt: null,
      native: { provider: 'buildkite', status: 'running', conclusion: null, failureReason: null },
    });
  });

  it('should keep a blocked build unfinished and say so in native', () => {
    const p = toPipeline('bk', restBuild('passed', T0, { blocked: true }));
    expect(p.status).toBe('WAITING');
    expect(p.finishedAt).toBeNull();
    expect(p.native).toMatchObject({ status: 'passed', conclusion: 'blocked' });
  });

  it('should rank a build read with its jobs above the same build without them', () => {
    const bare = toPipeline('bk', restBuild('running', T0));
    const withJobs = toPipeline('bk', restBuild('running', T0, { jobs: [restJob('running', T0 - 1000)] }));
    expect(compareRevisions(withJobs.revision, bare.revision)).toBeGreaterThan(0);
  });

  it('should name the agent of a started job only, and put command jobs in their queue pool', () => {
    const build = restBuild('running', T0);
    const running = toJob('bk', restJob('running', T0), build, { slug: 'web' });
    expect(running.runnerNativeId).not.toBeNull();
    expect(running.labels).toEqual(['queue=default']);
    const assigned = toJob('bk', restJob('assigned', T0, { agent: { id: 'x', name: 'a' } }), build, { slug: 'web' });
    expect(assigned.runnerNativeId).toBeNull();
    const block = toJob('bk', { ...restJob('blocked', T0), type: 'manual', label: 'Ship it?', name: null }, build, { slug: 'web' });
    expect(block).toMatchObject({ name: 'Ship it?', labels: [], status: 'WAITING', waitReason: 'APPROVAL' });
  });

  it('should hide wait steps, keep retried attempts only when asked, and number attempts from retries_count', () => {
    const first = restJob('failed', T0, { retried: true, id: '00000000-0000-4000-8000-000000000001' });
    const retry = restJob('passed', T0, { retries_count: 1, id: '00000000-0000-4000-8000-000000000002' });
    const waiter = { id: '00000000-0000-4000-8000-000000000003', type: 'waiter', state: 'passed' };
    const build = restBuild('passed', T0, { jobs: [first, waiter, retry] });
    expect(jobsOfBuild('bk', build, { slug: 'web', attempts: false }).map((j) => j.attempt)).toEqual([2]);
    expect(jobsOfBuild('bk', build, { slug: 'web', attempts: true }).map((j) => j.attempt)).toEqual([1, 2]);
  });

  it('should tell parallel jobs of one step apart by name', () => {
    const build = restBuild('running', T0);
    const names = [0, 1].map((i) => toJob('bk', restJob('running', T0, { parallel_group_index: i, parallel_group_total: 2 }), build, { slug: 'web' }).name);
    expect(names).toEqual([':test_tube: Test (1/2)', ':test_tube: Test (2/2)']);
  });

  it('should make agents runners: queue tag as a label, offline when lost, current job from its URLs', () => {
    const busy = toRunner('bk', {
      id: 'a1', name: 'ci-1', connection_state: 'connected', meta_data: ['os=linux'], version: '3.87.1',
      job: { id: '00000000-0000-4000-8000-000000000009', build_url: 'https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/7' },
    }, T0);
    expect(busy).toMatchObject({ state: 'BUSY', labels: ['os=linux', 'queue=default'], os: 'linux', currentJobNativeId: 'web/7/00000000-0000-4000-8000-000000000009', revision: [T0] });
    expect(toRunner('bk', { id: 'a2', connection_state: 'lost', meta_data: ['queue=macos'] }, T0)).toMatchObject({ state: 'OFFLINE', labels: ['queue=macos'] });
  });

  it('should be total over noisy builds and jobs: a model or a payload error, never another exception (property)', () => {
    const noisy = fc.record({
      number: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.anything()), state: fc.oneof(fc.constantFrom('passed', 'failed', 'running'), fc.anything()),
      blocked: fc.anything(), created_at: fc.oneof(fc.date().map((d) => (Number.isFinite(d.getTime()) ? d.toISOString() : 'x')), fc.anything()),
      branch: fc.anything(), commit: fc.anything(), creator: fc.anything(), message: fc.anything(),
    }, { requiredKeys: [] });
    fc.assert(fc.property(noisy, fc.anything(), (build, job) => {
      for (const run of [() => toPipeline('bk', build, { slug: 'web' }), () => toJob('bk', job, build, { slug: 'web' })]) {
        try {
          const e = run();
          expect(e.waitReason !== null).toBe(e.status === 'WAITING');
          expect(Number.isNaN(Date.parse(e.createdAt ?? new Date(0).toISOString()))).toBe(false);
        } catch (error) {
          expect((error as Error).name).toBe('BuildkitePayloadError');
        }
      }
    }));
  });
});
