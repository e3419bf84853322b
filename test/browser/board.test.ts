/**
 * The live board (/board) in a real browser against demo mode, with authentication off and on:
 * the wall shows all three providers, a transition the gateway emits repaints within 2 s, a
 * dropped WebSocket resumes with `after` without a missed transition or a reload, and no request
 * leaves loopback. Screenshots go to BOARD_SCREENSHOTS (default /tmp); the README's are in docs/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { PageNetwork, pageWeight, startBoardDemo, type BoardDemo } from './board-harness.ts';

const SHOTS = process.env['BOARD_SCREENSHOTS'] ?? '/tmp';
const CANCELABLE = ['GITHUB', 'GITLAB'];

describe.each([{ auth: false }, { auth: true }])('the board in a browser (demo mode, authentication $auth)', ({ auth }) => {
  let board: BoardDemo;
  let browser: Browser;
  let page: Page;
  const network = new PageNetwork();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [board, browser] = await Promise.all([startBoardDemo(auth), launchChromium()]);
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await network.attach(context);
    page = await context.newPage();
    page.on('pageerror', (e) => void pageErrors.push(e.message));
    page.on('console', (m) => void (/Content.Security.Policy/i.test(m.text()) && pageErrors.push(m.text())));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await board?.close();
  });

  const canceledHere = new Set<string>();

  /** A running pipeline on the wall, of a provider whose cancel ends it at once; `not`: one tried already. */
  async function runningCell(not: readonly string[] = []): Promise<{ id: string; project: string }> {
    const skip = not.map((id) => `:not([data-pipeline-id="${id}"])`).join('');
    const cell = page.locator(CANCELABLE.map((p) => `.cell[data-status="RUNNING"][data-provider="${p}"]${skip}`).join(', ')).first();
    await cell.waitFor({ timeout: 60_000 });
    return { id: (await cell.getAttribute('data-pipeline-id'))!, project: (await cell.getAttribute('data-project'))! };
  }

  /**
   * Cancels a running pipeline on the wall through the gateway's own action (the simulator ends
   * the run) and waits for the gateway's CANCELED event. A run may finish between the pick and the
   * cancel (ALREADY_FINISHED): then another is picked.
   */
  async function cancelRunning(pick: (tried: readonly string[]) => Promise<{ id: string; project: string }> = runningCell): Promise<{ id: string; project: string }> {
    // Pipelines an earlier test canceled are never picked again: a list read a moment before
    // their webhook may still say RUNNING, and canceling a canceled pipeline emits no event.
    const tried: string[] = [...canceledHere];
    for (;;) {
      const cell = await pick(tried);
      tried.push(cell.id);
      const canceled = board.nextPipelineEvent((e) => e.pipeline.id === cell.id && e.pipeline.status === 'CANCELED');
      const result = await board.gql<{ cancelPipeline: { errors: { code: string }[] } }>(
        'mutation($id: ID!) { cancelPipeline(input: { id: $id }) { errors { code message } } }', { id: cell.id });
      if (result.cancelPipeline.errors.some((e) => e.code === 'ALREADY_FINISHED') && tried.length < 5) continue;
      expect(result.cancelPipeline.errors).toEqual([]);
      await canceled;
      canceledHere.add(cell.id);
      return cell;
    }
  }

  /** Offline, the page's wall is stale: ask the gateway for a running pipeline (the feed shows every branch). */
  async function runningAnywhere(tried: readonly string[]): Promise<{ id: string; project: string }> {
    for (;;) {
      const data = await board.gql<{ pipelines: { nodes: { id: string; project: { fullName: string } }[] } }>(
        '{ pipelines(first: 30, filter: { status: [RUNNING], backends: ["github-demo", "gitlab-demo"] }) { nodes { id project { fullName } } } }');
      const found = data.pipelines.nodes.find((p) => !tried.includes(p.id));
      if (found) return { id: found.id, project: found.project.fullName };
      await board.nextPipelineEvent((e) => e.pipeline.status === 'RUNNING');
    }
  }

  const transition = (id: string, kind: string) => page.locator(`.feed li[data-pipeline-id="${id}"][data-kind="${kind}"]`);

  it(auth ? 'asks for the API key, says clearly when it is wrong, then shows the wall' : 'opens on the wall without asking for a key', async () => {
    await page.goto(`${board.origin}/board`);
    if (auth) {
      const prompt = page.locator('.key-prompt');
      await prompt.waitFor({ timeout: 10_000 });
      await prompt.locator('input[name="apiKey"]').fill('sy_board_thisisnotthekey');
      await prompt.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('#auth-error').textContent(), { timeout: 10_000 }).toMatch(/refused this API key/);
      await prompt.locator('input[name="apiKey"]').fill(board.key!);
      await prompt.locator('button[type="submit"]').click();
    }
    await page.locator('.board[data-loaded="yes"]').waitFor({ timeout: 20_000 });
    if (auth) {
      expect(await page.evaluate(() => sessionStorage.getItem('switchyard.apiKey'))).toBe(board.key);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      // Every transport carried it: the HTTP header, and connection_init over the WebSocket.
      expect(network.authorizations.at(-1)).toBe(`Bearer ${board.key}`);
      const inits = network.frames.filter((f) => f.type === 'connection_init');
      expect(inits.at(-1)?.payload).toEqual({ authorization: `Bearer ${board.key}` });
    } else {
      expect(await page.locator('.key-prompt').count()).toBe(0);
    }
  }, 60_000);

  it('shows projects of GitHub, GitLab and Jenkins on the wall, and the runner pools', async () => {
    for (const provider of ['GITHUB', 'GITLAB', 'JENKINS']) {
      await page.locator(`.cell[data-provider="${provider}"]:not([data-status="NONE"])`).first().waitFor({ timeout: 20_000 });
    }
    // Each cell follows its project's default branch (any branch where the project has none, as a Jenkins job).
    const branches = await page.locator('.cell:not([data-status="NONE"])').evaluateAll((cells) => cells.map((c) => [(c as HTMLElement).dataset['branch'], (c as HTMLElement).dataset['wallBranch']]));
    const followed = branches.filter(([, wall]) => wall !== '');
    expect(followed.length).toBeGreaterThan(3);
    for (const [branch, wall] of followed) expect(branch).toBe(wall);
    // Status by colour and by word: every cell says it in text too.
    const statuses = await page.locator('.cell .status').allTextContents();
    for (const s of statuses) expect(s).toMatch(/passed|failed|timed out|CI error|running|canceling|queued|pending|waiting|unstable|canceled|skipped|unknown|no pipeline/);
    await page.locator('.pools tr[data-pool]').first().waitFor({ timeout: 20_000 });
    await page.locator('[data-link="up"]').waitFor({ timeout: 10_000 });
    if (!auth) {
      await page.screenshot({ path: join(SHOTS, 'board-wall.png') });
      await page.locator('.pools').screenshot({ path: join(SHOTS, 'board-pools.png') });
    }
  }, 60_000);

  it('repaints a live transition within 2 s of the gateway emitting it', async () => {
    const { id, project } = await cancelRunning();
    await transition(id, 'canceled').waitFor({ timeout: 2000 });
    // Its wall cell shows the cancel too, unless a newer pipeline of the project took its place.
    await page.locator(`.cell[data-pipeline-id="${id}"][data-status="CANCELED"], .cell[data-project="${project}"]:not([data-pipeline-id="${id}"])`).waitFor({ timeout: 2000 });
  }, 90_000);

  it('resumes a dropped WebSocket with `after`, missing no transition, without reloading', async () => {
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
    const framesBefore = network.frames.length;
    await network.drop();
    await page.locator('[data-link="down"]').waitFor({ timeout: 5000 });
    // While the page is offline, the simulator cancels a run.
    const { id } = await cancelRunning(runningAnywhere);
    expect(await transition(id, 'canceled').count()).toBe(0);
    network.restore();
    await page.locator('[data-link="up"]').waitFor({ timeout: 10_000 });
    await transition(id, 'canceled').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    const resubscribed = network.frames.slice(framesBefore).filter((f) => f.type === 'subscribe' && JSON.stringify(f.payload).includes('pipelineUpdated'));
    expect(resubscribed.length).toBeGreaterThan(0);
    expect((resubscribed[0]!.payload as { variables: { after: unknown } }).variables.after).toEqual(expect.any(String));
  }, 90_000);

  it.runIf(!auth)('shows success rate, p95 duration and time to green as charts', async () => {
    await page.locator('nav a', { hasText: 'Analytics' }).click();
    expect(new URL(page.url()).searchParams.get('view')).toBe('analytics');
    await expect.poll(() => page.locator('.chart canvas').count(), { timeout: 20_000 }).toBe(3);
    // Lines, not empty axes: the demo's history holds the simulators' past (imported at start).
    await expect.poll(() => page.locator('.chart').first().locator('.u-legend .u-series').count(), { timeout: 60_000 }).toBeGreaterThan(3);
    await page.screenshot({ path: join(SHOTS, 'board-analytics.png') });
    await page.locator('nav a', { hasText: 'Wall' }).click();
  }, 60_000);

  it.runIf(!auth)('serves a small bundle, cached by content hash (sizes and first render printed against GraphiQL)', async () => {
    const boardWeight = await pageWeight(board.origin, '/board');
    const graphiqlWeight = await pageWeight(board.origin, '/graphql');
    const script = boardWeight.assets.find((a) => a.endsWith('.js'))!;
    const first = await fetch(`${board.origin}${script}`);
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const again = await fetch(`${board.origin}${script}`, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(boardWeight.br).toBeLessThan(boardWeight.gzip);
    expect(boardWeight.gzip).toBeLessThan(boardWeight.raw);

    const firstRender = async (path: string, ready: string) => {
      const fresh = await browser.newPage();
      await fresh.goto(`${board.origin}${path}`);
      await fresh.locator(ready).first().waitFor({ timeout: 30_000 });
      const times = await fresh.evaluate(() => ({
        paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        data: performance.getEntriesByName('board-first-render')[0]?.startTime ?? null,
        load: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.loadEventEnd ?? null,
      }));
      await fresh.close();
      return times;
    };
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const ms = (n: number | null) => (n === null ? 'n/a' : `${Math.round(n)} ms`);
    const b = await firstRender('/board', '.cell[data-status]:not([data-status="NONE"])');
    const g = await firstRender('/graphql', 'section[aria-label="Operation Editor"] .monaco-editor');
    console.info([
      `board:    raw ${kb(boardWeight.raw)}, gzip ${kb(boardWeight.gzip)}, brotli ${kb(boardWeight.br)} (page + ${boardWeight.assets.length} assets); first paint ${ms(b.paint)}, wall with data ${ms(b.data)}, load ${ms(b.load)}`,
      `GraphiQL: raw ${kb(graphiqlWeight.raw)}, gzip ${kb(graphiqlWeight.gzip)}, brotli ${kb(graphiqlWeight.br)} (page + ${graphiqlWeight.assets.length} assets); first paint ${ms(g.paint)}, load ${ms(g.load)}`,
    ].join('\n'));
  }, 90_000);

  it('sent no request off loopback and raised no script or CSP error', () => {
    expect(network.requests.some((u) => u.startsWith('ws://127.0.0.1'))).toBe(true);
    expect(network.requests.some((u) => u.includes('/board/'))).toBe(true);
    expect(network.outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
