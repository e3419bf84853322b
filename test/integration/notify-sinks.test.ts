import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { pino, type Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CI_STATUSES } from '../../src/model.ts';
import { deliveryId, TRIGGER_KINDS, type Notification } from '../../src/notify/notification.ts';
import { sinkConfigSchema, type SinkConfig } from '../../src/notify/notify-config.ts';
import type { NotificationSink, SinkDelivery } from '../../src/notify/sink.ts';
import { createSinks } from '../../src/notify/sinks/create-sinks.ts';
import { webhookPayload } from '../../src/notify/sinks/webhook-payload.ts';
import { failedPipelineNotification, notifiedJob } from '../helpers/notification-fixture.ts';
import { startSinkReceiver, type SinkReceiver } from '../helpers/sink-receiver.ts';

/**
 * Every HTTP sink against a real loopback receiver, with the real libraries (@slack/webhook,
 * standardwebhooks on both sides): what arrives, and how each failure of the receiver maps to the
 * worker's next step.
 */

const SECRET = 'whsec_' + Buffer.from('switchyard-test-signing-key-0123456789').toString('base64');
const TOKEN = 'T0KEN-xoxb-s3cr3t';

function capturedLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }), lines };
}

function build(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, log: Logger = pino({ level: 'silent' })): NotificationSink {
  const parsed: SinkConfig = sinkConfigSchema.parse(config);
  const sink = createSinks([parsed], { env, log }).get(parsed.name);
  if (!sink) throw new Error('sink not built');
  return sink;
}

function delivery(n: Notification = failedPipelineNotification(), sink = 'team', attempt = 1): SinkDelivery {
  return { notification: n, deliveryId: deliveryId(n.dedupeKey, sink), attempt };
}

const withinSeconds = (s: number) => AbortSignal.timeout(s * 1000);

let receiver: SinkReceiver;
beforeEach(async () => {
  receiver = await startSinkReceiver();
});
afterEach(async () => {
  await receiver.close();
});

describe('Slack sink (@slack/webhook)', () => {
  const slack = (env: NodeJS.ProcessEnv = {}) => build({ type: 'slack', name: 'team', url: { env: 'SLACK_URL' } }, { SLACK_URL: `${receiver.origin}/services/T000/B000/${TOKEN}`, ...env });

  it('posts Block Kit with a text fallback, status as emoji and word, the failing jobs with flaky marks, and a link', async () => {
    const outcome = await slack().send(delivery(), withinSeconds(10));
    expect(outcome).toEqual({ ok: true, status: 200 });
    const [request] = receiver.received;
    expect(request?.path).toBe(`/services/T000/B000/${TOKEN}`);
    const message = JSON.parse(request?.body ?? '{}');
    expect(message.text).toBe('acme/api main: CI failed (2 jobs) after 4m 12s');
    const types = message.blocks.map((b: { type: string }) => b.type);
    expect(types).toEqual(['header', 'section', 'section', 'section', 'context', 'actions']);
    expect(message.blocks[0].text).toEqual({ type: 'plain_text', text: '❌ Failed · acme/api main', emoji: true });
    const fields = message.blocks[2].fields.map((f: { text: string }) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*Project*\nacme/api', '*Branch*\nmain', '*Commit*\n3f9c2a7', '*Duration*\n4m 12s', '*Actor*\noctocat', '*Category*\ncode']));
    const jobs: string = message.blocks[3].text.text;
    expect(jobs).toContain('*Failing jobs*');
    expect(jobs).toContain('• unit-tests (FAILURE): Process completed with exit code 1.');
    // mrkdwn's control characters escaped; the flaky job marked in words and with an emoji.
    expect(jobs).toContain('• :repeat: integration-tests (FAILURE): Test "checkout &gt; pays" failed: timeout &lt;5000ms&gt; &amp; retry — flaky');
    expect(message.blocks[5].elements[0]).toMatchObject({ type: 'button', url: 'https://github.com/acme/api/actions/runs/4242', text: { text: 'Open pipeline' } });
  });

  it('maps 429 with Retry-After to a retry after that long, 5xx to a retry, other 4xx to permanent', async () => {
    const sink = slack();
    receiver.behaviour = { kind: 'answer', status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' };
    expect(await sink.send(delivery(), withinSeconds(10))).toEqual({ ok: false, kind: 'retry', status: 429, error: 'HTTP 429: rate_limited', retryAfterMs: 7000 });
    receiver.behaviour = { kind: 'answer', status: 503, body: 'service unavailable' };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'retry', status: 503 });
    receiver.behaviour = { kind: 'answer', status: 400, body: 'invalid_blocks' };
    expect(await sink.send(delivery(), withinSeconds(10))).toEqual({ ok: false, kind: 'permanent', status: 400, error: 'HTTP 400: invalid_blocks' });
    receiver.behaviour = { kind: 'answer', status: 404, body: 'no_service' };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'permanent', status: 404 });
    receiver.behaviour = { kind: 'answer', status: 302, headers: { location: 'https://elsewhere.example/' } };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'permanent', status: 302 });
    receiver.behaviour = { kind: 'endless', status: 503 };
    expect(await sink.send(delivery(), withinSeconds(5))).toMatchObject({ ok: false, kind: 'retry', status: 503 });
  });

  it("honours the worker's signal on a receiver that hangs, and retries a reset connection", async () => {
    const sink = build({ type: 'slack', name: 'team', url: { env: 'SLACK_URL' }, timeoutSeconds: 120 }, { SLACK_URL: `${receiver.origin}/services/x` });
    receiver.behaviour = { kind: 'hang' };
    const started = Date.now();
    expect(await sink.send(delivery(), AbortSignal.timeout(300))).toEqual({ ok: false, kind: 'retry', status: null, error: 'no answer: timed out' });
    expect(Date.now() - started).toBeLessThan(5000);
    receiver.behaviour = { kind: 'reset' };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'retry', status: null, error: expect.stringMatching(/^no answer: /) });
  });
});

describe('Teams sink (Adaptive Card)', () => {
  it('posts a message with one Adaptive Card: title, facts, failing jobs, Action.OpenUrl', async () => {
    const sink = build({ type: 'teams', name: 'team', url: { env: 'TEAMS_URL' } }, { TEAMS_URL: `${receiver.origin}/webhookb2/abc/IncomingWebhook/${TOKEN}` });
    expect(await sink.send(delivery(), withinSeconds(10))).toEqual({ ok: true, status: 200 });
    const [request] = receiver.received;
    expect(request?.headers['content-type']).toBe('application/json');
    const message = JSON.parse(request?.body ?? '{}');
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    const attachment = message.attachments[0];
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = attachment.content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: '❌ Failed · acme/api main', weight: 'Bolder' });
    const factSet = card.body.find((b: { type: string }) => b.type === 'FactSet');
    expect(factSet.facts).toEqual(expect.arrayContaining([
      { title: 'Project', value: 'acme/api' }, { title: 'Branch', value: 'main' }, { title: 'Commit', value: '3f9c2a7' },
      { title: 'Duration', value: '4m 12s' }, { title: 'Category', value: 'code' },
    ]));
    const texts = card.body.map((b: { text?: string }) => b.text ?? '').join('\n');
    expect(texts).toContain('Failing jobs');
    expect(texts).toContain('- unit-tests (FAILURE): Process completed with exit code 1.');
    expect(texts).toContain('- 🔁 integration-tests (FAILURE)');
    expect(texts).toContain('— flaky');
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open pipeline', url: 'https://github.com/acme/api/actions/runs/4242' }]);
  });
});

describe('Standard Webhooks sink (standardwebhooks)', () => {
  const webhook = (timeoutSeconds = 10) => build({ type: 'webhook', name: 'team', url: `${receiver.origin}/hooks/ci`, secret: { env: 'WH_SECRET' }, timeoutSeconds }, { WH_SECRET: SECRET });
  const headersOf = (r: { headers: Record<string, string | string[] | undefined> }) => ({
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

  it("signs so the reference library's Webhook.verify accepts it, and a tampered body fails verification", async () => {
    const d = delivery();
    expect(await webhook().send(d, withinSeconds(10))).toEqual({ ok: true, status: 200 });
    const [request] = receiver.received;
    if (!request) throw new Error('nothing received');
    const headers = headersOf(request);
    expect(headers['webhook-id']).toBe(d.deliveryId);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const verified = new Webhook(SECRET).verify(request.body, headers);
    expect(verified).toEqual(JSON.parse(JSON.stringify(webhookPayload(d.notification))));
    expect(verified).toMatchObject({ type: 'switchyard.notification.failed', timestamp: '2026-01-15T10:04:12.000Z', data: { id: d.notification.id } });
    const tampered = request.body.replace('"acme/api main: CI failed', '"acme/api main: CI passed');
    expect(tampered).not.toBe(request.body);
    expect(() => new Webhook(SECRET).verify(tampered, headers)).toThrow(/signature/i);
    expect(() => new Webhook('whsec_' + Buffer.from('another-key-another-key-another-key').toString('base64')).verify(request.body, headers)).toThrow(/signature/i);
  });

  it('keeps the webhook-id and the body across retries of one delivery; another sink gets another id', async () => {
    const sink = webhook();
    receiver.behaviour = { kind: 'answer', status: 500 };
    expect(await sink.send(delivery(undefined, 'team', 1), withinSeconds(10))).toMatchObject({ ok: false, kind: 'retry', status: 500 });
    receiver.behaviour = { kind: 'answer', status: 204 };
    expect(await sink.send(delivery(undefined, 'team', 2), withinSeconds(10))).toEqual({ ok: true, status: 204 });
    await sink.send(delivery(undefined, 'other-sink', 1), withinSeconds(10));
    const [first, retry, other] = receiver.received;
    expect(retry?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(retry?.body).toBe(first?.body);
    expect(other?.headers['webhook-id']).not.toBe(first?.headers['webhook-id']);
    for (const r of [first, retry]) if (r) expect(() => new Webhook(SECRET).verify(r.body, headersOf(r))).not.toThrow();
  });

  it('maps 500, 429 with an HTTP-date Retry-After, 408, 400, a hang and a reset', async () => {
    const sink = webhook(120);
    receiver.behaviour = { kind: 'answer', status: 500, body: '<html>\n  boom\n</html>' };
    expect(await sink.send(delivery(), withinSeconds(10))).toEqual({ ok: false, kind: 'retry', status: 500, error: 'HTTP 500: <html> boom </html>' });
    const inThirty = new Date(Date.now() + 30_000).toUTCString();
    receiver.behaviour = { kind: 'answer', status: 429, headers: { 'retry-after': inThirty } };
    const limited = await sink.send(delivery(), withinSeconds(10));
    expect(limited).toMatchObject({ ok: false, kind: 'retry', status: 429 });
    expect(!limited.ok && limited.retryAfterMs).toBeGreaterThan(25_000);
    expect(!limited.ok && limited.retryAfterMs).toBeLessThanOrEqual(30_000);
    receiver.behaviour = { kind: 'answer', status: 408 };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'retry', status: 408 });
    receiver.behaviour = { kind: 'answer', status: 400, body: 'bad payload' };
    expect(await sink.send(delivery(), withinSeconds(10))).toEqual({ ok: false, kind: 'permanent', status: 400, error: 'HTTP 400: bad payload' });
    receiver.behaviour = { kind: 'answer', status: 301, headers: { location: 'https://elsewhere.example/' } };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'permanent', status: 301 });
    receiver.behaviour = { kind: 'hang' };
    const started = Date.now();
    expect(await sink.send(delivery(), AbortSignal.timeout(300))).toEqual({ ok: false, kind: 'retry', status: null, error: 'no answer: timed out' });
    expect(Date.now() - started).toBeLessThan(5000);
    receiver.behaviour = { kind: 'reset' };
    expect(await sink.send(delivery(), withinSeconds(10))).toMatchObject({ ok: false, kind: 'retry', status: null, error: expect.stringMatching(/^no answer: /) });
    const requests = receiver.received.length;
    // Every attempt reached the receiver: none was skipped or short-circuited.
    expect(requests).toBe(7);
  });

  it('reads only the start of an error answer that never ends', async () => {
    receiver.behaviour = { kind: 'endless', status: 502 };
    const outcome = await webhook().send(delivery(), withinSeconds(5));
    expect(outcome).toMatchObject({ ok: false, kind: 'retry', status: 502 });
    expect(!outcome.ok && outcome.error.length).toBeLessThan(260);
  });

  it("cuts a hung receiver off at the sink's own timeoutSeconds when the worker's signal never fires", async () => {
    const sink = build({ type: 'webhook', name: 'team', url: `${receiver.origin}/hooks/ci`, secret: { env: 'WH_SECRET' }, timeoutSeconds: 0.3 }, { WH_SECRET: SECRET });
    receiver.behaviour = { kind: 'hang' };
    expect(await sink.send(delivery(), new AbortController().signal)).toEqual({ ok: false, kind: 'retry', status: null, error: 'no answer: timed out' });
  });
});

describe('the webhook payload and its JSON Schema (docs/notification-webhook.schema.json)', () => {
  const schema = JSON.parse(readFileSync(new URL('../../docs/notification-webhook.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  const job = notifiedJob({ category: 'infrastructure', status: 'ERROR', reason: 'The runner lost communication with the server.' });
  const variants: Notification[] = [
    failedPipelineNotification(),
    failedPipelineNotification({ trigger: 'fixed', category: 'none', red: { since: '2026-01-15T09:00:00.000Z', pipelines: 3 }, summary: 'acme/api main: CI fixed' }),
    failedPipelineNotification({ trigger: 'queued-longer-than', category: 'none', pipeline: null, job: { ...job, status: 'QUEUED', finishedAt: null, startedAt: null }, lifecycle: 'queued', previous: null }),
    failedPipelineNotification({ trigger: 'runner-pool-starved', category: 'none', project: null, pipeline: null, previous: null, lifecycle: null, pool: { labels: ['gpu', 'linux'], online: 2, busy: 2, idle: 0, offline: 1, queued: 14, oldestWaitSeconds: 930 } }),
    failedPipelineNotification({ trigger: 'backend-down', category: 'none', project: null, pipeline: null, previous: null, lifecycle: null, backendHealth: { state: 'DOWN', cause: 'ECONNREFUSED', since: '2026-01-15T10:00:00.000Z' } }),
  ];

  it.each(variants.map((n) => [n.trigger, n] as const))('a real %s payload validates', async (_trigger, n) => {
    const sink = build({ type: 'webhook', name: 'team', url: `${receiver.origin}/hooks`, secret: { value: SECRET } });
    expect(await sink.send(delivery(n), withinSeconds(10))).toMatchObject({ ok: true });
    const body = JSON.parse(receiver.received[0]?.body ?? 'null');
    expect(validate(body), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('refuses a payload that drifted from it', () => {
    const payload = JSON.parse(JSON.stringify(webhookPayload(failedPipelineNotification())));
    payload.data.undocumented = true;
    expect(validate(payload)).toBe(false);
    delete payload.data.undocumented;
    payload.data.pipeline.failingJobs[0].flaky = 'yes';
    expect(validate(payload)).toBe(false);
  });

  it("lists the contract's triggers and statuses, no more and no fewer", () => {
    expect(schema.$defs.TriggerKind.enum).toEqual([...TRIGGER_KINDS]);
    expect(schema.$defs.CiStatus.enum).toEqual([...CI_STATUSES]);
  });
});

describe('secrets', () => {
  it('never appear in describe(), in the logs or in a config error', async () => {
    const { log, lines } = capturedLog();
    const env = {
      SLACK_URL: `${receiver.origin}/services/T000/B000/${TOKEN}`,
      TEAMS_URL: `${receiver.origin}/webhookb2/x/IncomingWebhook/${TOKEN}`,
      WH_URL: `${receiver.origin}/hooks?token=${TOKEN}`,
      WH_SECRET: SECRET,
    };
    const configs = [
      { type: 'slack', name: 'slack', url: { env: 'SLACK_URL' } },
      { type: 'teams', name: 'teams', url: { env: 'TEAMS_URL' } },
      { type: 'webhook', name: 'hook', url: { env: 'WH_URL' }, secret: { env: 'WH_SECRET' } },
      { type: 'log', name: 'log' },
    ].map((c) => sinkConfigSchema.parse(c));
    const sinks = createSinks(configs, { env, log });
    const described = [...sinks.values()].map((s) => s.describe());
    expect(described).toEqual([`slack ${receiver.origin}`, `teams ${receiver.origin}`, `webhook ${receiver.origin}`, 'log (last 200 kept in memory)']);
    receiver.behaviour = { kind: 'answer', status: 400, body: 'nope' };
    const outcomes = await Promise.all([...sinks.values()].map((s) => s.send(delivery(), withinSeconds(10))));
    expect(JSON.stringify(outcomes)).not.toContain(TOKEN);
    receiver.behaviour = { kind: 'reset' };
    const resets = await Promise.all([...sinks.values()].map((s) => s.send(delivery(), withinSeconds(10))));
    expect(JSON.stringify(resets)).not.toContain(TOKEN);
    expect(lines.length).toBeGreaterThan(0); // the log sink logged: the capture works
    const secretBytes = SECRET.replace('whsec_', '');
    for (const text of [...described, ...lines]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(secretBytes);
    }
    // A refusal shows scheme and host only.
    const refused = (() => {
      try {
        createSinks([sinkConfigSchema.parse({ type: 'slack', name: 'slack', url: { env: 'SLACK_URL' } })], { env: { SLACK_URL: `http://hooks.slack.example/services/T000/B000/${TOKEN}` }, log });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(refused).toContain('notifications.sinks[0].url');
    expect(refused).toContain('http://hooks.slack.example/…');
    expect(refused).not.toContain(TOKEN);
  });
});
