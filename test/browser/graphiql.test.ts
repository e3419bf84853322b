/**
 * GraphiQL in a real browser, on a closed network: demo mode serves the page,
 * every request that would leave loopback is aborted and counted, and a query
 * typed into the editor and run from the toolbar shows live demo data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, print } from 'graphql';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adapterFactories } from '../../src/adapters.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { isLocalUrl, launchChromium } from './chromium.ts';

const QUERY = '{ pipelines(first: 5) { nodes { status name project { fullName } } } runners { nodes { name state } } }';
const SCREENSHOT = '/tmp/graphiql.png';
const STATUS = /"status":\s*"(PENDING|QUEUED|WAITING|RUNNING|CANCELING|SUCCESS|UNSTABLE|FAILURE|TIMED_OUT|ERROR|CANCELED|SKIPPED|UNKNOWN)"/;

describe('GraphiQL in a browser (demo mode, closed network)', () => {
  let demo: Demo | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const outside: string[] = [];
  const graphqlBodies: string[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startDemo({ factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent' }),
      launchChromium(),
    ]);
    // Tall viewport: Monaco only renders the lines in view, so show all of the result.
    context = await browser.newContext({ viewport: { width: 1280, height: 1600 } });
    // On the context, so requests from workers and popups are caught too.
    await context.route('**/*', async (route) => {
      const request = route.request();
      const url = request.url();
      requests.push(url);
      if (request.method() === 'POST' && url === demo?.url) graphqlBodies.push(request.postData() ?? '');
      if (isLocalUrl(url)) return route.continue();
      outside.push(url);
      return route.abort('internetdisconnected');
    });
    await context.routeWebSocket(/.*/, (ws) => {
      const url = ws.url();
      requests.push(url);
      if (isLocalUrl(url)) ws.connectToServer();
      else { outside.push(url); void ws.close(); }
    });
    page = await context.newPage();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('loads with no request leaving loopback and runs a typed query', async () => {
    const response = await page.goto(demo!.url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/text\/html/);
    await expect(page.title()).resolves.toBe('Switchyard GraphiQL');

    // GraphiQL 5 uses Monaco: the operation editor is the section labelled
    // "Operation Editor"; wait for its default query to be rendered.
    const editor = page.locator('section[aria-label="Operation Editor"] .monaco-editor');
    await editor.locator('.view-lines', { hasText: 'RecentPipelines' }).waitFor();

    // As a user would: click in, select all, type the replacement.
    await editor.locator('.view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(QUERY);
    const editorText = async () => (await editor.locator('.view-lines').innerText()).replace(/\s+/g, ' ').trim();
    await expect.poll(editorText).toContain('runners');
    // Monaco auto-closes the opening brace, leaving one "}" after the cursor:
    // dismiss any suggestion popup, then delete from the cursor to the end.
    // (Polled, since Monaco repaints on the next animation frame.)
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+Shift+End');
    await page.keyboard.press('Delete');
    await expect.poll(editorText).toBe(QUERY);

    // GraphiQL re-parses the editor on a debounce and keeps the operation name in
    // the active tab; running before that lands sends the old "RecentPipelines"
    // name with the new anonymous query. Wait until the tab shows it is anonymous.
    const activeTab = page.getByRole('tab', { selected: true });
    await expect.poll(() => activeTab.innerText()).toBe('<untitled>');

    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();

    const result = page.locator('section[aria-label="Result Window"] .view-lines');
    // Any backend's pipelines may be the newest five: wait for a project name.
    await result.filter({ hasText: '"fullName": "' }).waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      await page.screenshot({ path: SCREENSHOT });
      throw new Error(`no demo data in the result pane (screenshot: ${SCREENSHOT}):\n${await result.innerText()}`, { cause: error });
    });
    const text = (await result.innerText()).replace(/\u00a0/g, ' ');
    expect(text).toContain('"pipelines"');
    expect(text).toMatch(/"fullName": "[^"]+"/);
    expect(text).toMatch(STATUS);
    expect(text).toContain('"runners"');
    expect(text).toMatch(/"state": "(IDLE|BUSY|OFFLINE|STALE|NEVER_CONTACTED|UNKNOWN)"/);
    expect(text).not.toContain('"errors"');

    await page.screenshot({ path: SCREENSHOT });

    // The typed query went over the wire to the gateway (GraphiQL minifies it)...
    const sent = graphqlBodies.map((b) => (JSON.parse(b) as { query?: string }).query ?? '');
    expect(sent.map((q) => print(parse(q)))).toContain(print(parse(QUERY)));
    // ...and nothing at all tried to leave loopback.
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(outside).toEqual([]);
  }, 60_000);
});
