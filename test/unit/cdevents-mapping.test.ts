import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES, type CiStatus } from '../../src/model.ts';
import { cdeventOutcome, toCdevent } from '../../src/notify/cdevents/cdevent-mapping.ts';
import { CDEVENT_TYPES, CDEVENTS_SPEC_VERSION, type CdEvent, type TaskRunContent } from '../../src/notify/cdevents/cdevent-types.ts';
import { retryAfterMs } from '../../src/notify/cdevents/http-outcome.ts';
import { enteredLifecycle } from '../../src/notify/cdevents/transition-notifications.ts';
import { deliveryId, type Notification, type NotifiedJob, type NotifiedPipeline } from '../../src/notify/notification.ts';
import { cdeventsValidator, conformanceExamples } from '../helpers/cdevents-schemas.ts';

const validator = cdeventsValidator();

function notifiedPipeline(over: Partial<NotifiedPipeline> = {}): NotifiedPipeline {
  return {
    id: 'UGlwZWxpbmU6Z2g6MTI=', nativeId: '12', name: 'ci', title: null, number: 7, attempt: 1, status: 'RUNNING',
    native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, url: 'https://github.com/acme/web/actions/runs/12',
    branch: 'main', commitSha: 'abc', actor: 'octocat', createdAt: '2026-01-01T10:00:00.000Z', startedAt: null, finishedAt: null, durationMs: null, failingJobs: [], ...over,
  };
}

function notifiedJob(over: Partial<NotifiedJob> = {}): NotifiedJob {
  return {
    id: 'Sm9iOmdoOjM0', nativeId: '34', pipelineId: 'UGlwZWxpbmU6Z2g6MTI=', name: 'test', status: 'RUNNING',
    native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, url: 'https://github.com/acme/web/actions/runs/12/job/34',
    category: 'none', reason: null, runnerName: 'r1', labels: ['linux'], startedAt: null, finishedAt: null, queuedAt: null, flaky: false, ...over,
  };
}

function notification(over: Partial<Notification> = {}): Notification {
  return {
    id: 'ntf_x', dedupeKey: 'export:cdevents|pipeline|gh|12#1|started', trigger: 'transition', rule: 'export:cdevents', category: 'none',
    occurredAt: '2026-01-01T10:01:00.000Z', detectedAt: '2026-01-01T10:01:01.000Z', backend: 'gh', provider: 'github',
    project: { id: 'UHJvamVjdDpnaDphY21lL3dlYg==', nativeId: 'acme/web', fullName: 'acme/web', url: 'https://github.com/acme/web' },
    pipeline: notifiedPipeline(), job: null, previous: null, red: null, pool: null, backendHealth: null, lifecycle: 'started', summary: 'acme/web ci #7: started', ...over,
  };
}

const delivery = (n: Notification) => ({ notification: n, deliveryId: deliveryId(n.dedupeKey, 'cd'), attempt: 1 });

function event(n: Notification, source = '/switchyard'): CdEvent {
  const result = toCdevent(delivery(n), source);
  if ('unsupported' in result) throw new Error(result.unsupported);
  return result;
}

describe('CDEvents outcome of every CiStatus (NOTIFICATIONS.md table)', () => {
  const expected: Record<CiStatus, string | null> = {
    PENDING: null, QUEUED: null, WAITING: null, RUNNING: null, CANCELING: null, UNKNOWN: null,
    SUCCESS: 'success', FAILURE: 'failure', UNSTABLE: 'failure', TIMED_OUT: 'failure', ERROR: 'error', CANCELED: 'cancel', SKIPPED: 'cancel',
  };
  it.each(CI_STATUSES.map((s) => [s, expected[s]] as const))('%s -> %s', (status, outcome) => {
    expect(cdeventOutcome(status)).toBe(outcome);
  });

  it('a finished pipeline carries its outcome, and errors in words unless it succeeded', () => {
    const timedOut = event(notification({ lifecycle: 'finished', pipeline: notifiedPipeline({ status: 'TIMED_OUT', native: { provider: 'github', status: 'completed', conclusion: 'timed_out', failureReason: null } }) }));
    expect(timedOut.context.type).toBe(CDEVENT_TYPES.pipelineRunFinished);
    expect(timedOut.subject.content).toMatchObject({ outcome: 'failure', errors: expect.stringContaining('timed out (github: completed/timed_out)') });
    const failingJob = notifiedJob({ status: 'FAILURE', reason: 'script_failure' });
    const failed = event(notification({ lifecycle: 'finished', pipeline: notifiedPipeline({ status: 'FAILURE', failingJobs: [failingJob] }) }));
    expect(failed.subject.content).toMatchObject({ outcome: 'failure', errors: expect.stringContaining('job test: FAILURE (script_failure)') });
    const green = event(notification({ lifecycle: 'finished', pipeline: notifiedPipeline({ status: 'SUCCESS' }) }));
    expect(green.subject.content).toEqual({ pipelineName: 'ci', uri: 'https://github.com/acme/web/actions/runs/12', outcome: 'success' });
    const skipped = event(notification({ lifecycle: 'finished', pipeline: notifiedPipeline({ status: 'SKIPPED' }) }));
    expect(skipped.subject.content).toMatchObject({ outcome: 'cancel', errors: expect.stringContaining('skipped') });
    expect(skipped.customData).toMatchObject({ status: 'SKIPPED' });
  });
});

describe('which CDEvent a notification is', () => {
  it('pipeline queued/started/finished; job started/finished with its pipelinerun; context per the v0.5.1 binding', () => {
    const queued = event(notification({ lifecycle: 'queued' }));
    expect(queued.context).toEqual({ specversion: CDEVENTS_SPEC_VERSION, id: deliveryId('export:cdevents|pipeline|gh|12#1|started', 'cd'), source: '/switchyard', type: CDEVENT_TYPES.pipelineRunQueued, timestamp: '2026-01-01T10:01:00.000Z' });
    expect(queued.subject).toMatchObject({ id: 'UGlwZWxpbmU6Z2g6MTI=', source: '/switchyard', content: { pipelineName: 'ci' } });
    expect(event(notification({ lifecycle: 'started' })).context.type).toBe(CDEVENT_TYPES.pipelineRunStarted);
    const jobStarted = event(notification({ lifecycle: 'started', job: notifiedJob() }));
    expect(jobStarted.context.type).toBe(CDEVENT_TYPES.taskRunStarted);
    expect(jobStarted.subject).toEqual({ id: 'Sm9iOmdoOjM0', source: '/switchyard', content: { taskName: 'test', uri: 'https://github.com/acme/web/actions/runs/12/job/34', pipelineRun: { id: 'UGlwZWxpbmU6Z2g6MTI=', source: '/switchyard' } } });
    const jobFinished = event(notification({ lifecycle: 'finished', job: notifiedJob({ status: 'ERROR', reason: 'runner_system_failure' }) }));
    expect(jobFinished.context.type).toBe(CDEVENT_TYPES.taskRunFinished);
    expect((jobFinished.subject.content as TaskRunContent)).toMatchObject({ outcome: 'error', errors: expect.stringContaining('reason: runner_system_failure') });
    expect(jobFinished.customData).toMatchObject({ backend: 'gh', provider: 'github', status: 'ERROR', branch: 'main', commitSha: 'abc', trigger: 'transition', rule: 'export:cdevents', runnerName: 'r1', labels: ['linux'] });
  });

  it('refuses what CDEvents v0.5.1 cannot say: a job entering the queue, a pool or backend message', () => {
    expect(toCdevent(delivery(notification({ lifecycle: 'queued', job: notifiedJob() })), '/s')).toEqual({ unsupported: 'CDEvents v0.5.1 has no taskrun.queued event' });
    expect(toCdevent(delivery(notification({ lifecycle: null, trigger: 'backend-down', pipeline: null })), '/s')).toMatchObject({ unsupported: expect.stringContaining('backend-down') });
  });

  it('a run without an absolute URL gets a URN (pipelinerun.started requires a uri), and a name from its project', () => {
    const e = event(notification({ pipeline: notifiedPipeline({ url: '/relative/run', name: null }) }));
    expect(e.subject.content).toEqual({ uri: 'urn:switchyard:pipeline:UGlwZWxpbmU6Z2g6MTI%3D', pipelineName: 'acme/web' });
    expect(validator.errors(e)).toEqual([]);
  });
});

describe('every generated event validates against the vendored v0.5.1 schemas', () => {
  it('the spec\'s own conformance examples validate (the validator is set up right)', () => {
    const examples = conformanceExamples();
    expect(examples).toHaveLength(5);
    for (const { name, event: e } of examples) expect(validator.errors(e), name).toEqual([]);
    // ...and it does refuse: a finished event with an outcome outside the enum.
    const finished = examples.find((x) => x.name === 'pipelinerun_finished.json')!.event as { subject: { content: Record<string, unknown> } };
    expect(validator.errors({ ...finished, subject: { ...finished.subject, content: { ...finished.subject.content, outcome: 'skipped' } } })).not.toEqual([]);
  });

  const status = fc.constantFrom(...CI_STATUSES);
  const nullableText = fc.option(fc.string({ maxLength: 30 }), { nil: null });
  const url = fc.option(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string({ maxLength: 20 }), fc.constant('https://ci.example/ü ber?x=1 2')), { nil: null });
  const native = fc.record({ provider: fc.constantFrom('github', 'gitlab', 'jenkins'), status: nullableText, conclusion: nullableText, failureReason: nullableText });
  const iso = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  const id = fc.string({ minLength: 1, maxLength: 40 });
  const job = fc.record({ id, pipelineId: fc.option(id, { nil: undefined }), name: fc.string({ maxLength: 30 }), status, native, url, reason: nullableText, labels: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }) })
    .map(({ pipelineId, ...j }) => notifiedJob({ ...j, ...(pipelineId === undefined ? { pipelineId: undefined } : { pipelineId }) }));
  const pipeline = fc.record({ id, name: nullableText, title: nullableText, number: fc.option(fc.nat(), { nil: null }), attempt: fc.integer({ min: 1, max: 9 }), status, native, url, branch: nullableText, commitSha: nullableText, failingJobs: fc.array(job, { maxLength: 3 }) })
    .map((p) => notifiedPipeline(p));
  const source = fc.constantFrom('/switchyard', 'https://ci.example.com/switchyard', 'urn:switchyard:prod', 'switchyard');
  const generated = fc.record({ pipeline: fc.option(pipeline, { nil: null }), job: fc.option(job, { nil: null }), lifecycle: fc.constantFrom('queued', 'started', 'finished' as const), occurredAt: iso, dedupeKey: fc.string({ minLength: 1 }), source })
    .filter((g) => g.pipeline !== null || g.job !== null);

  it('for any pipeline or job, status, name and URL', () => {
    let checked = 0;
    fc.assert(
      fc.property(generated, (g) => {
        const n = notification({ pipeline: g.pipeline, job: g.job, lifecycle: g.lifecycle, occurredAt: g.occurredAt, dedupeKey: g.dedupeKey });
        const result = toCdevent(delivery(n), g.source);
        if ('unsupported' in result) {
          expect(g.job !== null && g.lifecycle === 'queued').toBe(true);
          return;
        }
        checked++;
        expect(validator.errors(result)).toEqual([]);
        expect(validator.types).toContain(result.context.type);
      }),
      { numRuns: 500 },
    );
    expect(checked).toBeGreaterThan(200);
  });
});

describe('which change enters which lifecycle (the export)', () => {
  it.each([
    ['QUEUED', null, 'POLL', 'queued'],
    ['WAITING', 'QUEUED', 'WEBHOOK', null],
    ['PENDING', 'SUCCESS', 'WEBHOOK', 'queued'], // a re-run
    ['RUNNING', 'QUEUED', 'POLL', 'started'],
    ['RUNNING', null, 'POLL', 'started'],
    ['CANCELING', 'RUNNING', 'WEBHOOK', null],
    ['CANCELED', 'CANCELING', 'WEBHOOK', 'finished'],
    ['FAILURE', 'RUNNING', 'POLL', 'finished'],
    ['SUCCESS', null, 'WEBHOOK', 'finished'],
    ['SUCCESS', null, 'POLL', null], // an old run found at start
    ['SUCCESS', 'FAILURE', 'WEBHOOK', null],
    ['UNKNOWN', 'RUNNING', 'POLL', null],
  ] as const)('%s after %s (%s) -> %s', (status, previous, source, expected) => {
    expect(enteredLifecycle(status, previous, source)).toBe(expected);
  });

  it('Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(new Date(1_000_000 + 30_000).toUTCString(), 1_000_000)).toBe(30_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
