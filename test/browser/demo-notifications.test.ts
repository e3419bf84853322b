/**
 * Demo mode's notifications page in a real browser: its inline script runs under the page's
 * Content-Security-Policy, polls the JSON feed and shows a message that arrives after the page
 * loaded, with its text escaped, and nothing leaves loopback.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/notify/notification.ts';
import { createDemoNotificationsRoute } from '../../src/notify/sinks/demo-notifications-route.ts';
import { createLogSink } from '../../src/notify/sinks/log-sink.ts';
import { failedPipelineNotification } from '../helpers/notification-fixture.ts';
import { isLocalUrl, launchChromium } from './chromium.ts';

describe('the demo notifications page in a browser', () => {
  const sink = createLogSink({ name: 'demo', keep: 50, log: pino({ level: 'silent' }) });
  let server: http.Server;
  let origin: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const route = createDemoNotificationsRoute([sink]);
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (route.handles(url.pathname)) void route.handle(req, res, url);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('shows a message sent after the page loaded, escaped, with no CSP violation and no request off loopback', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage();
    const problems: string[] = [];
    const outside: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => void problems.push(e.message));
    await page.route('**/*', (route) => {
      if (isLocalUrl(route.request().url())) return route.continue();
      outside.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    await page.goto(`${origin}/demo/notifications`);
    expect(await page.locator('#empty').isVisible()).toBe(true);

    const n = failedPipelineNotification({ summary: 'acme/api main: <img src=x onerror=alert(1)> failed' });
    await sink.send({ notification: n, deliveryId: deliveryId(n.dedupeKey, 'demo'), attempt: 1 }, AbortSignal.timeout(1000));

    const item = page.locator('#list > li').first();
    await item.waitFor({ timeout: 10_000 }); // the 2 s poll: a barrier on the page's own refresh
    expect(await item.locator('strong').textContent()).toBe('❌ Failed · acme/api main');
    expect(await item.textContent()).toContain('acme/api main: <img src=x onerror=alert(1)> failed');
    expect(await page.locator('#list img').count()).toBe(0);
    expect(await item.textContent()).toContain('integration-tests (FAILURE)');
    expect(await item.locator('a').getAttribute('href')).toBe('https://github.com/acme/api/actions/runs/4242');
    expect(await page.locator('#empty').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
  });
});
