import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP, type CloudEvent } from 'cloudevents';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/events/event-types.ts';
import type { CiStatus, JobModel, PipelineModel } from '../../src/model.ts';
import { CDEVENT_TYPES } from '../../src/notify/cdevents/cdevent-types.ts';
import { CdeventsExport } from '../../src/notify/cdevents/cdevents-export.ts';
import { createCdeventsSink, type CdeventsSinkConfig } from '../../src/notify/cdevents/cdevents-sink.ts';
import { transitionNotifications } from '../../src/notify/cdevents/transition-notifications.ts';
import { deliveryId, type Notification } from '../../src/notify/notification.ts';
import { sinkConfigSchema } from '../../src/notify/notify-config.ts';
import type { NotificationEnqueuer } from '../../src/notify/outbox-port.ts';
import type { NotificationSink, SinkDelivery } from '../../src/notify/sink.ts';
import { cdeventsValidator } from '../helpers/cdevents-schemas.ts';
import { job, pipeline } from '../helpers/ci-models.ts';

const validator = cdeventsValidator();
const log = pino({ level: 'silent' });

interface Request {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A loopback CDEvents receiver: records each request; answers with `reply`, or never (`hang`), or drops the connection (`drop`). */
async function startReceiver() {
  const requests: Request[] = [];
  const state: { reply: { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'drop' } = { reply: { status: 202 } };
  const arrived: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      requests.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      arrived.splice(0).forEach((f) => f());
      const reply = state.reply;
      if (reply === 'hang') return;
      if (reply === 'drop') return req.socket.destroy();
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events?token=s3cret`,
    requests,
    state,
    /** Resolves when the next request has fully arrived. */
    nextRequest: () => new Promise<void>((resolve) => arrived.push(resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
afterEach(() => {
  receiver.requests.length = 0;
  receiver.state.reply = { status: 202 };
});

function sinkConfig(over: Record<string, unknown> = {}): CdeventsSinkConfig {
  return sinkConfigSchema.parse({ type: 'cdevents', name: 'cd', url: receiver.url, ...over }) as CdeventsSinkConfig;
}

const signal = () => AbortSignal.timeout(5_000);

/** An outbox stand-in: one row per (dedupeKey, sink), as the real outbox's unique key. */
class DedupingEnqueuer implements NotificationEnqueuer {
  readonly rows = new Map<string, { notification: Notification; sink: string }>();
  async enqueue(notification: Notification, sinks: readonly string[]): Promise<number> {
    let inserted = 0;
    for (const sink of sinks) {
      const key = `${notification.dedupeKey}\n${sink}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, { notification, sink });
      inserted++;
    }
    return inserted;
  }
  deliveries(): SinkDelivery[] {
    return [...this.rows.values()].map(({ notification, sink }) => ({ notification, deliveryId: deliveryId(notification.dedupeKey, sink), attempt: 1 }));
  }
}

let sequence = 0;
const at = (mmss: string) => `2026-01-01T10:${mmss}.000Z`;
function pipelineEvent(p: PipelineModel, previousStatus: CiStatus | null, source: ChangeEvent['source'] = 'WEBHOOK'): ChangeEvent {
  return { type: 'Pipeline', pipeline: p, previousStatus, source, sequence: ++sequence, receivedAt: p.updatedAt ?? p.createdAt };
}
function jobEvent(j: JobModel, previousStatus: CiStatus | null, source: ChangeEvent['source'] = 'WEBHOOK'): ChangeEvent {
  return { type: 'Job', job: j, previousStatus, source, sequence: ++sequence, receivedAt: j.finishedAt ?? j.startedAt ?? at('00:00') };
}

/** What arrived, as the receiver's CloudEvents SDK reads it. */
function received(): CloudEvent<Record<string, unknown>>[] {
  return receiver.requests.map((r) => HTTP.toEvent({ headers: r.headers, body: r.body }) as CloudEvent<Record<string, unknown>>);
}

const finishedPipeline = pipeline('4711', {
  status: 'FAILURE', native: { provider: 'github', status: 'completed', conclusion: 'failure', failureReason: null },
  url: 'https://github.com/acme/web/actions/runs/4711', number: 42, createdAt: at('00:00'), startedAt: at('00:10'), finishedAt: at('03:00'), updatedAt: at('03:00'),
});
const exampleNotification = (): Notification => transitionNotifications(pipelineEvent(finishedPipeline, 'RUNNING'), { jobs: true })[0]!;

describe('the CDEvents sink posts CloudEvents to a loopback receiver', () => {
  it('binary mode: the CDEvent is the body, its context in ce-* headers; the data validates against the v0.5.1 schema', async () => {
    const sink = createCdeventsSink(sinkConfig({ mode: 'binary' }), { env: {}, log });
    const n = exampleNotification();
    const outcome = await sink.send({ notification: n, deliveryId: 'msg_binary1', attempt: 1 }, signal());
    expect(outcome).toEqual({ ok: true, status: 202 });
    const [request] = receiver.requests;
    expect(request!.headers).toMatchObject({ 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'msg_binary1', 'ce-type': CDEVENT_TYPES.pipelineRunFinished, 'ce-source': '/switchyard', 'ce-time': at('03:00') });
    const [event] = received();
    expect(event).toMatchObject({ specversion: '1.0', id: 'msg_binary1', type: CDEVENT_TYPES.pipelineRunFinished, source: '/switchyard', subject: n.pipeline!.id, time: at('03:00') });
    expect(validator.errors(event!.data)).toEqual([]);
    expect(event!.data).toMatchObject({ context: { id: 'msg_binary1', specversion: '0.5.1' }, subject: { id: n.pipeline!.id, content: { outcome: 'failure', pipelineName: 'ci', uri: 'https://github.com/acme/web/actions/runs/4711' } } });
  });

  it('structured mode: the whole CloudEvent as application/cloudevents+json; the data validates', async () => {
    const sink = createCdeventsSink(sinkConfig({ mode: 'structured', source: 'https://ci.example.com/switchyard' }), { env: {}, log });
    expect(await sink.send({ notification: exampleNotification(), deliveryId: 'msg_structured1', attempt: 2 }, signal())).toEqual({ ok: true, status: 202 });
    const [request] = receiver.requests;
    expect(request!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(request!.headers).not.toHaveProperty('ce-id');
    const [event] = received();
    expect(event).toMatchObject({ id: 'msg_structured1', type: CDEVENT_TYPES.pipelineRunFinished, source: 'https://ci.example.com/switchyard', datacontenttype: 'application/json' });
    expect(validator.errors(event!.data)).toEqual([]);
  });

  it('maps answers: 503 and 429 with Retry-After are retried after it, 400 is permanent, a hang or a dropped connection is retried', async () => {
    const sink = createCdeventsSink(sinkConfig(), { env: {}, log });
    const d = { notification: exampleNotification(), deliveryId: 'msg_answers', attempt: 1 };
    receiver.state.reply = { status: 503, headers: { 'retry-after': '7' } };
    expect(await sink.send(d, signal())).toEqual({ ok: false, kind: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: 7000 });
    receiver.state.reply = { status: 429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } };
    const limited = await sink.send(d, signal());
    expect(limited).toMatchObject({ ok: false, kind: 'retry', status: 429 });
    expect((limited as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000);
    receiver.state.reply = { status: 400, body: 'invalid event:\n  bad type' };
    expect(await sink.send(d, signal())).toEqual({ ok: false, kind: 'permanent', status: 400, error: 'HTTP 400: invalid event: bad type' });
    receiver.state.reply = { status: 301, headers: { location: 'http://elsewhere.example/' } };
    expect(await sink.send(d, signal())).toMatchObject({ ok: false, kind: 'permanent', status: 301 });
    receiver.state.reply = 'drop';
    expect(await sink.send(d, signal())).toMatchObject({ ok: false, kind: 'retry', status: null });
    receiver.state.reply = 'hang';
    const controller = new AbortController();
    const arrived = receiver.nextRequest();
    const hung = sink.send(d, controller.signal);
    await arrived; // the request is at the receiver, which will never answer: only the signal ends it
    controller.abort();
    expect(await hung).toEqual({ ok: false, kind: 'retry', status: null, error: 'no answer before the attempt timed out' });
  });

  it('a refused connection is retried; a pool message is permanent (not a CDEvents event); nothing throws', async () => {
    const closed = await startReceiver();
    await closed.close();
    const sink = createCdeventsSink(sinkConfig({ url: closed.url }), { env: {}, log });
    expect(await sink.send({ notification: exampleNotification(), deliveryId: 'msg_refused', attempt: 1 }, signal())).toMatchObject({ ok: false, kind: 'retry', status: null, error: expect.stringContaining('ECONNREFUSED') });
    const pool = { ...exampleNotification(), trigger: 'runner-pool-starved' as const, lifecycle: null, pipeline: null };
    expect(await sink.send({ notification: pool, deliveryId: 'msg_pool', attempt: 1 }, signal())).toMatchObject({ ok: false, kind: 'permanent', error: expect.stringContaining('runner-pool-starved') });
  });

  it('refuses plain http to a host that is not loopback unless allowInsecureUrl; resolves a secret URL from the environment and never shows its query', () => {
    expect(() => createCdeventsSink(sinkConfig({ url: 'http://broker.example.com/events' }), { env: {}, log })).toThrow(/notifications\.sinks "cd" \(cdevents\): url: plain http to broker\.example\.com/);
    expect(createCdeventsSink(sinkConfig({ url: 'http://broker.example.com/events', allowInsecureUrl: true }), { env: {}, log }).describe()).toBe('cdevents binary http://broker.example.com/events');
    expect(() => createCdeventsSink(sinkConfig({ url: { env: 'CD_URL' } }), { env: {}, log })).toThrow(/url: the environment variable CD_URL is not set/);
    const sink = createCdeventsSink(sinkConfig({ url: { env: 'CD_URL' } }), { env: { CD_URL: receiver.url }, log });
    expect(sink.describe()).not.toContain('s3cret');
    expect(() => createCdeventsSink(sinkConfig({ source: 'not a uri' }), { env: {}, log })).toThrow(/source "not a uri" contains whitespace/);
  });
});

describe('the CDEvents export (notifications.exports.cdevents)', () => {
  const p = (status: CiStatus, over: Partial<PipelineModel> = {}) =>
    pipeline('900', { status, number: 9, url: 'https://github.com/acme/web/actions/runs/900', createdAt: at('00:00'), queuedAt: at('00:01'), updatedAt: at('00:02'), ...over });
  const j = (status: CiStatus, over: Partial<JobModel> = {}) => job('901', { status, pipelineNativeId: '900', url: 'https://github.com/acme/web/actions/runs/900/job/901', startedAt: at('00:20'), ...over });

  /** A pipeline's life as the gateway sees it: every change from the webhook and again from the next poll. */
  function duplicatedLife(): ChangeEvent[] {
    const life: [ChangeEvent, ChangeEvent][] = [
      [pipelineEvent(p('QUEUED'), null), pipelineEvent(p('QUEUED'), null, 'POLL')],
      [pipelineEvent(p('WAITING'), 'QUEUED'), pipelineEvent(p('WAITING'), 'QUEUED', 'POLL')],
      [pipelineEvent(p('RUNNING', { startedAt: at('00:15') }), 'WAITING'), pipelineEvent(p('RUNNING', { startedAt: at('00:15') }), 'QUEUED', 'POLL')],
      [jobEvent(j('QUEUED', { startedAt: null }), null), jobEvent(j('QUEUED', { startedAt: null }), null, 'POLL')],
      [jobEvent(j('RUNNING'), 'QUEUED'), jobEvent(j('RUNNING'), 'QUEUED', 'POLL')],
      [jobEvent(j('SUCCESS', { finishedAt: at('02:00') }), 'RUNNING'), jobEvent(j('SUCCESS', { finishedAt: at('02:00') }), 'RUNNING', 'POLL')],
      [pipelineEvent(p('CANCELING', { startedAt: at('00:15') }), 'RUNNING'), pipelineEvent(p('CANCELING', { startedAt: at('00:15') }), 'RUNNING', 'POLL')],
      [pipelineEvent(p('CANCELED', { startedAt: at('00:15'), finishedAt: at('02:30') }), 'CANCELING'), pipelineEvent(p('CANCELED', { startedAt: at('00:15'), finishedAt: at('02:30') }), 'RUNNING', 'POLL')],
    ];
    return life.flat();
  }

  it('sends queued, started and finished once each per pipeline attempt, and job started/finished, however often a change is seen', async () => {
    const enqueuer = new DedupingEnqueuer();
    const exporter = new CdeventsExport({ sink: 'cd', jobs: true }, { enqueuer, log });
    const inserted: number[] = [];
    for (const event of duplicatedLife()) inserted.push(await exporter.observe(event));
    expect(inserted.reduce((a, b) => a + b, 0)).toBe(5);
    const keys = [...enqueuer.rows.values()].map((r) => r.notification.dedupeKey);
    expect(keys).toEqual([
      'export:cdevents|pipeline|gh|900#1|queued',
      'export:cdevents|pipeline|gh|900#1|started',
      'export:cdevents|job|gh|901#1|started',
      'export:cdevents|job|gh|901#1|finished',
      'export:cdevents|pipeline|gh|900#1|finished',
    ]);
    for (const { notification, sink } of enqueuer.rows.values()) {
      expect(notification).toMatchObject({ trigger: 'transition', rule: 'export:cdevents', backend: 'gh', provider: 'github' });
      expect(sink).toBe('cd');
    }

    // A re-run (attempt 2) is a new set; an old finished run found by a poll at start sends nothing.
    await exporter.observe(pipelineEvent(p('QUEUED', { attempt: 2 }), 'CANCELED'));
    await exporter.observe(pipelineEvent(pipeline('17', { status: 'SUCCESS' }), null, 'POLL'));
    expect([...enqueuer.rows.keys()].slice(5)).toEqual(['export:cdevents|pipeline|gh|900#2|queued\ncd']);

    // Delivered by the real sink, every message is a valid CDEvent, in order, with the expected outcome.
    const sink: NotificationSink = createCdeventsSink(sinkConfig({ mode: 'structured' }), { env: {}, log });
    for (const d of enqueuer.deliveries()) expect(await sink.send(d, signal())).toEqual({ ok: true, status: 202 });
    const events = received();
    expect(events.map((e) => e.type)).toEqual([
      CDEVENT_TYPES.pipelineRunQueued, CDEVENT_TYPES.pipelineRunStarted, CDEVENT_TYPES.taskRunStarted, CDEVENT_TYPES.taskRunFinished, CDEVENT_TYPES.pipelineRunFinished, CDEVENT_TYPES.pipelineRunQueued,
    ]);
    for (const e of events) expect(validator.errors(e.data), e.type).toEqual([]);
    expect(events.map((e) => e.time)).toEqual([at('00:01'), at('00:15'), at('00:20'), at('02:00'), at('02:30'), at('00:01')]);
    expect(events[4]!.data).toMatchObject({ subject: { content: { outcome: 'cancel' } }, customData: { status: 'CANCELED', attempt: 1, branch: 'main' } });
    expect(events[3]!.data).toMatchObject({ subject: { content: { taskName: 'test', outcome: 'success', pipelineRun: { id: events[0]!.subject } } } });
  });

  it('without `jobs` it sends pipelines only; a history that refuses is logged, not thrown', async () => {
    const enqueuer = new DedupingEnqueuer();
    const exporter = new CdeventsExport({ sink: 'cd', jobs: false }, { enqueuer, log });
    for (const event of duplicatedLife()) await exporter.observe(event);
    expect([...enqueuer.rows.values()].map((r) => r.notification.lifecycle + (r.notification.job ? ' job' : ''))).toEqual(['queued', 'started', 'finished']);
    const warnings: unknown[] = [];
    const failing = new CdeventsExport({ sink: 'cd', jobs: true }, { enqueuer: { enqueue: () => Promise.reject(new Error('history database unavailable')) }, log: { warn: (o: unknown) => warnings.push(o) } });
    await expect(failing.observe(pipelineEvent(p('RUNNING'), 'QUEUED'))).resolves.toBe(0);
    expect(warnings).toEqual([expect.objectContaining({ err: 'history database unavailable', sink: 'cd' })]);
  });
});
