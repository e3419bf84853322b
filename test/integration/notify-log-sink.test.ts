import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryId, type Notification } from '../../src/notify/notification.ts';
import { sinkConfigSchema } from '../../src/notify/notify-config.ts';
import { createSinks } from '../../src/notify/sinks/create-sinks.ts';
import { createDemoNotificationsRoute, type DemoNotificationView } from '../../src/notify/sinks/demo-notifications-route.ts';
import { isLogSink, type LoggedNotification, type LogSink } from '../../src/notify/sinks/log-sink.ts';
import { failedPipelineNotification } from '../helpers/notification-fixture.ts';

/** The log sink (a ring, logged at info) and demo mode's receiver page over a real loopback server. */

function logSink(keep: number, lines: string[] = []): LogSink {
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const sink = createSinks([sinkConfigSchema.parse({ type: 'log', name: 'demo', keep })], { env: {}, log }).get('demo');
  if (!sink || !isLogSink(sink)) throw new Error('not a log sink');
  return sink;
}

const send = (sink: LogSink, n: Notification) => sink.send({ notification: n, deliveryId: deliveryId(n.dedupeKey, sink.name), attempt: 1 }, AbortSignal.timeout(1000));
const numbered = (i: number) => failedPipelineNotification({ dedupeKey: `k${i}`, summary: `message ${i}` });

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(sinks: LogSink[]): Promise<string> {
  const route = createDemoNotificationsRoute(sinks);
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (route.handles(url.pathname)) void route.handle(req, res, url);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('log sink', () => {
  it('keeps the last `keep` messages, oldest first, logs each at info and tells listeners', async () => {
    const lines: string[] = [];
    const sink = logSink(3, lines);
    const heard: LoggedNotification[] = [];
    const stop = sink.onMessage((m) => heard.push(m));
    for (let i = 1; i <= 5; i++) expect(await send(sink, numbered(i))).toEqual({ ok: true, status: null });
    expect(sink.recent().map((m) => m.notification.summary)).toEqual(['message 3', 'message 4', 'message 5']);
    expect(heard).toHaveLength(5);
    stop();
    await send(sink, numbered(6));
    expect(heard).toHaveLength(5);
    expect(lines).toHaveLength(6);
    const logged = JSON.parse(lines[5] ?? '{}');
    expect(logged).toMatchObject({ level: 30, sink: 'demo', msg: 'notification', trigger: 'failed', rule: 'broken', summary: 'message 6', notificationId: numbered(6).id });
  });

  it('a listener that throws does not turn a delivered message into a failure', async () => {
    const sink = logSink(2);
    sink.onMessage(() => {
      throw new Error('listener bug');
    });
    expect(await send(sink, numbered(1))).toEqual({ ok: true, status: null });
    expect(sink.recent()).toHaveLength(1);
  });
});

describe('demo receiver page', () => {
  it('serves the messages newest first as JSON and as an escaped HTML page with a polling script and no CDN', async () => {
    const sink = logSink(10);
    const origin = await serve([sink]);
    const empty = await fetch(`${origin}/demo/notifications.json`);
    expect(await empty.json()).toEqual([]);
    await send(sink, failedPipelineNotification({ dedupeKey: 'a', summary: 'first <b>bold</b>' }));
    await send(sink, failedPipelineNotification({ dedupeKey: 'b', trigger: 'fixed', category: 'none', summary: 'second' }));

    const feed = (await (await fetch(`${origin}/demo/notifications.json`)).json()) as DemoNotificationView[];
    expect(feed.map((v) => v.summary)).toEqual(['second', 'first <b>bold</b>']);
    expect(feed[0]).toMatchObject({ headline: '✅ Fixed · acme/api main', trigger: 'fixed', sink: 'demo', link: 'https://github.com/acme/api/actions/runs/4242' });
    expect(feed[1]?.jobs).toContain('integration-tests (FAILURE): Test "checkout > pays" failed: timeout <5000ms> & retry — flaky');

    const page = await fetch(`${origin}/demo/notifications`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await page.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain("fetch('/demo/notifications.json'");
    expect(html).not.toMatch(/<script[^>]+src=|https?:\/\/(?!github\.com)/);
    expect(html).toContain('first &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
    expect(html.indexOf('second')).toBeLessThan(html.indexOf('first &lt;b&gt;'));
    expect((await fetch(`${origin}/demo/notifications`, { method: 'POST' })).status).toBe(405);
  });
});
