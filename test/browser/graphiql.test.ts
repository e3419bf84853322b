/**
 * GraphiQL in a real browser, on a closed network, with authentication on:
 * demo mode serves the page and requires an API key; every request that would
 * leave loopback is aborted and counted. A user types the key into the Headers
 * tab, runs a typed query and a subscription and sees live demo data; a wrong
 * key shows the refusal as an error, never an endless spinner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, print } from 'graphql';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { adapterFactories } from '../../src/adapters.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { isLocalUrl, launchChromium } from './chromium.ts';

const QUERY = '{ pipelines(first: 5) { nodes { status name project { fullName } } } runners { nodes { name state } } }';
const SUBSCRIPTION = 'subscription { jobUpdated { receivedAt previousStatus job { name status } } }';
const SCREENSHOT = '/tmp/graphiql.png';
const STATUS = /"status":\s*"(PENDING|QUEUED|WAITING|RUNNING|CANCELING|SUCCESS|UNSTABLE|FAILURE|TIMED_OUT|ERROR|CANCELED|SKIPPED|UNKNOWN)"/;

/** What the page sent to the gateway, on whichever transport GraphiQL chose. */
interface SentToGateway {
  readonly transport: 'http' | 'ws';
  /** HTTP: the Authorization header; WebSocket: connection_init's payload, as JSON. */
  readonly credential: string;
  readonly body: string;
}

describe('GraphiQL in a browser (demo mode, authentication on, closed network)', () => {
  let demo: Demo | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let key: string;
  const requests: string[] = [];
  const outside: string[] = [];
  const sent: SentToGateway[] = [];

  beforeAll(async () => {
    const created = await createApiKey('graphiql');
    key = created.key;
    [demo, browser] = await Promise.all([
      startDemo({
        factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent',
        auth: { mode: 'required', apiKeys: [{ id: 'graphiql', hash: created.hash, scopes: { backends: ['*'] } }] },
      }),
      launchChromium(),
    ]);
    // Tall viewport: Monaco only renders the lines in view, so show all of the result.
    context = await browser.newContext({ viewport: { width: 1280, height: 1600 } });
    // On the context, so requests from workers and popups are caught too.
    await context.route('**/*', async (route) => {
      const request = route.request();
      const url = request.url();
      requests.push(url);
      if (request.method() === 'POST' && url === demo?.url) {
        sent.push({ transport: 'http', credential: (await request.headerValue('authorization')) ?? '', body: request.postData() ?? '' });
      }
      if (isLocalUrl(url)) return route.continue();
      outside.push(url);
      return route.abort('internetdisconnected');
    });
    await context.routeWebSocket(/.*/, (ws) => {
      const url = ws.url();
      requests.push(url);
      if (!isLocalUrl(url)) {
        outside.push(url);
        return void ws.close();
      }
      const server = ws.connectToServer();
      // Relayed by hand so connection_init (where a WebSocket carries credentials) is seen.
      ws.onMessage((message) => {
        const text = String(message);
        const frame = JSON.parse(text) as { type?: string; payload?: unknown };
        if (frame.type === 'connection_init') sent.push({ transport: 'ws', credential: JSON.stringify(frame.payload ?? null), body: '' });
        else if (frame.type === 'subscribe') sent.push({ transport: 'ws', credential: '', body: JSON.stringify(frame.payload) });
        server.send(message);
      });
    });
    page = await context.newPage();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  const operationEditor = () => page.locator('section[aria-label="Operation Editor"] .monaco-editor');
  const headersEditor = () => page.locator('.graphiql-editor-tool .monaco-editor[data-uri*="headers"]');
  const resultPane = () => page.locator('section[aria-label="Result Window"] .view-lines');
  const resultText = async () => (await resultPane().innerText()).replace(/\u00a0/g, ' ');
  const editorText = (editor: Locator) => async () => (await editor.locator('.view-lines').innerText()).replace(/\s+/g, ' ').trim();

  /** As a user would: click in, select all, type the replacement. */
  async function replaceText(editor: Locator, text: string): Promise<void> {
    await editor.locator('.view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(text);
    await expect.poll(editorText(editor)).toContain(text.slice(0, 12));
    // Monaco auto-closes an opening brace or quote, leaving it after the cursor:
    // dismiss any suggestion popup, then delete from the cursor to the end.
    // (Polled, since Monaco repaints on the next animation frame.)
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+Shift+End');
    await page.keyboard.press('Delete');
    await expect.poll(editorText(editor)).toBe(text);
  }

  /** Types an anonymous operation and waits until GraphiQL has parsed it (else it runs the old operation name). */
  async function typeOperation(text: string): Promise<void> {
    await replaceText(operationEditor(), text);
    const activeTab = page.getByRole('tab', { selected: true });
    await expect.poll(() => activeTab.innerText()).toBe('<untitled>');
  }

  async function typeHeaders(headers: Record<string, string>): Promise<void> {
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await replaceText(headersEditor(), JSON.stringify(headers));
  }

  async function waitForResult(pattern: string | RegExp, what: string): Promise<string> {
    await resultPane().filter({ hasText: pattern }).waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      await page.screenshot({ path: SCREENSHOT });
      throw new Error(`${what} never appeared in the result pane (screenshot: ${SCREENSHOT}):\n${await resultText()}`, { cause: error });
    });
    return resultText();
  }

  it('loads with no request leaving loopback and says that a key is needed', async () => {
    const response = await page.goto(demo!.url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/text\/html/);
    await expect(page.title()).resolves.toBe('Switchyard GraphiQL');
    // GraphiQL 5 uses Monaco: wait for the default query to be rendered.
    await operationEditor().locator('.view-lines', { hasText: 'RecentPipelines' }).waitFor();
    // The schema fetch without a key is refused, and GraphiQL says why.
    await waitForResult('UNAUTHENTICATED', 'the refused schema fetch');
    expect(outside).toEqual([]);
  }, 60_000);

  it('with the key in the Headers tab, fetches the schema and runs a typed query', async () => {
    await typeHeaders({ Authorization: `Bearer ${key}` });
    const schemaFetched = page.waitForResponse((r) => r.url() === demo!.url && (r.request().postData() ?? '').includes('IntrospectionQuery') && r.status() === 200);
    await page.getByRole('button', { name: /^Re-fetch GraphQL schema/ }).click();
    await schemaFetched;

    await typeOperation(QUERY);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    // Any backend's pipelines may be the newest five: wait for a project name.
    const text = await waitForResult('"fullName": "', 'demo data');
    expect(text).toContain('"pipelines"');
    expect(text).toMatch(/"fullName": "[^"]+"/);
    expect(text).toMatch(STATUS);
    expect(text).toContain('"runners"');
    expect(text).toMatch(/"state": "(IDLE|BUSY|OFFLINE|STALE|NEVER_CONTACTED|UNKNOWN)"/);
    expect(text).not.toContain('"errors"');
    await page.screenshot({ path: SCREENSHOT });

    // The typed query went over the wire to the gateway (GraphiQL minifies it).
    const queries = sent.map((s) => (JSON.parse(s.body || '{}') as { query?: string }).query ?? '').filter((q) => q !== '');
    expect(queries.map((q) => print(parse(q)))).toContain(print(parse(QUERY)));
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(outside).toEqual([]);
  }, 60_000);

  it('with the key, a subscription shows live events', async () => {
    const sentBefore = sent.length;
    await typeOperation(SUBSCRIPTION);
    await page.getByRole('button', { name: /^Execute query/ }).click();

    const first = await waitForResult('"jobUpdated"', 'a subscription event');
    expect(first).toMatch(STATUS);
    expect(first).not.toContain('"errors"');
    // Live: a later event replaces the first (each has its own receivedAt).
    const firstReceivedAt = /"receivedAt": "([^"]+)"/.exec(first)?.[1];
    expect(firstReceivedAt).toBeDefined();
    await expect.poll(async () => /"receivedAt": "([^"]+)"/.exec(await resultText())?.[1], { timeout: 20_000 }).not.toBe(firstReceivedAt);
    expect(await resultText()).not.toContain('"errors"');

    // Every transport GraphiQL used for it carried the key from the Headers tab.
    const forSubscription = sent.slice(sentBefore);
    expect(forSubscription.length).toBeGreaterThan(0);
    for (const s of forSubscription) expect(s.credential, `${s.transport} ${s.body}`).toContain(key);

    await page.getByRole('button', { name: /^Stop query/ }).click();
    await page.getByRole('button', { name: /^Execute query/ }).waitFor();
    expect(outside).toEqual([]);
  }, 60_000);

  it('a wrong key shows the refusal as an error, not a spinner', async () => {
    await typeHeaders({ Authorization: 'Bearer sy_graphiql_wrong' });
    // Stand-alone: an operation left running by an earlier failure is stopped first.
    const stop = page.getByRole('button', { name: /^Stop query/ });
    if ((await stop.count()) > 0) await stop.click();
    await page.getByRole('button', { name: /^Execute query/ }).click();

    const text = await waitForResult('UNAUTHENTICATED', 'the refusal');
    expect(text).toContain('"errors"');
    expect(text).not.toContain('"jobUpdated"');
    // Finished, not waiting: the button offers to run again, and nothing spins.
    await expect(page.getByRole('button', { name: /^Execute query/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: /^Stop query/ }).count()).resolves.toBe(0);
    await expect(page.locator('.graphiql-spinner').count()).resolves.toBe(0);
    await page.screenshot({ path: SCREENSHOT });
    expect(outside).toEqual([]);
  }, 60_000);
});
