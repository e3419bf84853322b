/**
 * A real browser EventSource on a gateway subscription: the connection is cut
 * (reset by a TCP proxy in front of the gateway) while jobs change, and the
 * EventSource reconnects on its own with `Last-Event-ID`; it receives exactly
 * the events it missed, then live ones, with no duplicate.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { isLocalUrl, launchChromium } from './chromium.ts';

interface Received { readonly id: string; readonly name: string; readonly status: string }

describe('a browser EventSource resumes a subscription after a dropped connection', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // An EventSource cannot send the CSRF header: this gateway runs without the check (see README, SSE).
    stack = await startStack({ config: { limits: { csrfPrevention: false } }, sim: { repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] } });
    proxy = await startTcpProxy(Number(new URL(stack.base).port));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await stack?.close();
  });

  const run = async (name: string) => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name, labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
  };
  const received = (page: Page) => page.evaluate(() => (window as unknown as { received: Received[] }).received);
  const finished = async (page: Page, name: string) => (await received(page)).some((e) => e.name === name && e.status === 'SUCCESS');

  it('gets the jobs that changed while it was cut off, then live ones, each once', async () => {
    const page = await browser!.newPage();
    const offLoopback: string[] = [];
    page.on('request', (request) => {
      if (!isLocalUrl(request.url())) offLoopback.push(request.url());
    });
    const origin = `http://127.0.0.1:${proxy.port}`;
    await page.goto(`${origin}/healthz`);
    await page.evaluate(() => {
      const query = 'subscription { jobUpdated { job { name status } } }';
      const w = window as unknown as { received: Received[]; source: EventSource };
      w.received = [];
      w.source = new EventSource(`/graphql?query=${encodeURIComponent(query)}`);
      w.source.addEventListener('next', (event) => {
        const job = (JSON.parse(event.data) as { data: { jobUpdated: { job: { name: string; status: string } } } }).data.jobUpdated.job;
        w.received.push({ id: event.lastEventId, ...job });
      });
    });
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the EventSource subscription');
    await run('before');
    await waitFor(() => finished(page, 'before'), 5000, 'the first job');

    await proxy.cut();
    await waitFor(() => stack.gateway.subscriptionCount === 0, 5000, 'the dropped stream to end');
    await run('missed');
    await proxy.restore();
    // EventSource retries by itself (Chromium waits ~3 s), sending the last id it saw.
    await waitFor(() => finished(page, 'missed'), 15_000, 'the missed job after reconnecting');
    await run('live');
    await waitFor(() => finished(page, 'live'), 5000, 'a live job after the resume');
    await page.evaluate(() => (window as unknown as { source: EventSource }).source.close());

    const events = await received(page);
    expect([...new Set(events.map((e) => e.name))]).toEqual(['before', 'missed', 'live']);
    expect(events.every((e) => e.id.length > 0)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(offLoopback).toEqual([]);
  }, 40_000);
});
