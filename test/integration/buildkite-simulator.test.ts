/**
 * The Buildkite simulator over real HTTP: auth and scopes, Link pagination,
 * build filters, the build and job lifecycles (passed, failed, blocked,
 * canceled, skipped, not_run; limited, expired, timed_out, soft-failed, lost
 * agents), write actions with Buildkite's refusals, logs, signed webhooks
 * verified by a loopback receiver, and the rate limit.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBuildkiteSimulator, type BuildkiteSimulator, type BuildkiteSimulatorOptions,
} from '../../adapters/buildkite/simulator/index.ts';

const TOKEN = 'bk-sim-token';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function start(o: BuildkiteSimulatorOptions = {}): Promise<BuildkiteSimulator> {
  const sim = await createBuildkiteSimulator({ seed: 7, history: 0, ...o });
  open.push(sim);
  return sim;
}

interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

async function api(sim: BuildkiteSimulator, path: string, init: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const token = init.token === undefined ? TOKEN : init.token;
  const res = await fetch(`${sim.url}/v2${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.headers ?? {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

const org = (p: string) => `/organizations/acme${p}`;

/** The `rel` targets of a Link header. */
function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const m = /<([^>]+)>;\s*rel="(\w+)"/.exec(part.trim());
    if (m) out[m[2]!] = m[1]!;
  }
  return out;
}

/** Steps until `done` holds (a bounded number of lifecycle steps, never a wall-clock wait). */
async function stepUntil(sim: BuildkiteSimulator, done: () => boolean, max = 60): Promise<void> {
  for (let i = 0; i < max && !done(); i++) await sim.step();
  expect(done()).toBe(true);
}

describe('Buildkite simulator: auth, scopes and the root', () => {
  it('answers 401 without or with a wrong token, 403 without the scope, and the root to anyone', async () => {
    const sim = await start({ tokens: [{ token: 'builds-only', scopes: ['read_builds'] }] });
    const none = await api(sim, org('/builds'), { token: null });
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/^Authentication required/);
    expect((await api(sim, org('/builds'), { token: 'nope' })).status).toBe(401);
    expect((await api(sim, org('/builds'), { token: 'builds-only' })).status).toBe(200);
    const agents = await api(sim, org('/agents'), { token: 'builds-only' });
    expect(agents.status).toBe(403);
    expect(agents.body.message).toContain('read_agents');
    expect((await api(sim, org('/pipelines'), { token: 'builds-only' })).status).toBe(403);
    const root = await api(sim, '', { token: null });
    expect(root.status).toBe(200);
    expect(root.body.message).toBe('🛠');
    expect((await api(sim, '/organizations/other/builds')).body).toEqual({ message: 'No organization found' });
    expect(sim.tokenLog.map((r) => r.token)).toContain('builds-only');
  });
});

describe('Buildkite simulator: lists', () => {
  it('pages builds with Link next/prev/first/last, no totals, and at most 100 a page', async () => {
    const sim = await start({ history: 30 });
    const total = sim.builds().length;
    expect(total).toBeGreaterThan(100);
    const first = await api(sim, org('/builds?per_page=7'));
    const rels = links(first.headers.get('link'));
    expect(Object.keys(rels).sort()).toEqual(['last', 'next']);
    expect(first.headers.get('x-total-count')).toBeNull();
    const seen = new Set<string>();
    let next: string | undefined = `${sim.url}/v2${org('/builds?per_page=7')}`;
    let pages = 0;
    while (next) {
      const res = await fetch(next, { headers: { authorization: `Bearer ${TOKEN}` } });
      const page = (await res.json()) as { id: string; created_at: string }[];
      for (const b of page) seen.add(b.id);
      const r = links(res.headers.get('link'));
      if (pages > 0) expect(r.first).toContain('page=1');
      next = r.next;
      pages++;
    }
    expect(seen.size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 7));
    const big = await api(sim, org('/builds?per_page=500'));
    expect(big.body).toHaveLength(100);
    // Newest first.
    const created = big.body.map((b: { created_at: string }) => Date.parse(b.created_at));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it('filters builds by state, branch wildcard, created and finished times', async () => {
    const sim = await start({ history: 6 });
    const all = sim.builds();
    const failedOrPassed = await api(sim, org('/builds?per_page=100&state[]=failed&state[]=not_run'));
    expect(failedOrPassed.body.length).toBe(all.filter((b) => b.state === 'failed' || b.state === 'not_run').length);
    expect(failedOrPassed.body.length).toBeGreaterThan(0);
    const feature = await api(sim, org('/pipelines/web/builds?per_page=100&branch=feature/*'));
    expect(feature.body.every((b: { branch: string }) => b.branch.startsWith('feature/'))).toBe(true);
    expect(feature.body.length).toBe(all.filter((b) => b.pipeline.slug === 'web' && b.branch.startsWith('feature/')).length);
    const mid = all[Math.floor(all.length / 2)]!;
    const from = new Date(mid.createdAt).toISOString();
    const recent = await api(sim, org(`/builds?per_page=100&created_from=${from}`));
    expect(recent.body.length).toBe(all.filter((b) => b.createdAt >= mid.createdAt).length);
    const older = await api(sim, org(`/builds?per_page=100&created_to=${from}`));
    expect(recent.body.length + older.body.length).toBe(all.length);
    const finished = await api(sim, org(`/builds?per_page=100&finished_from=${from}&state=finished`));
    expect(finished.body.every((b: { finished_at: string }) => Date.parse(b.finished_at) >= mid.createdAt)).toBe(true);
    expect((await api(sim, org('/builds?state=bogus'))).status).toBe(422);
  });

  it('lists only connected and stopping agents; the others are fetched by id', async () => {
    const sim = await start({ history: 3 });
    const listed = await api(sim, org('/agents'));
    const names = listed.body.map((a: { name: string }) => a.name);
    expect(names).not.toContain('ci-linux-old');
    expect(names).not.toContain('mac-mini-2');
    // The history lost one agent mid-job.
    const lost = sim.agents.find((a) => a.connectionState === 'lost');
    expect(lost).toBeDefined();
    expect(names).not.toContain(lost!.name);
    const one = await api(sim, org(`/agents/${lost!.id}`));
    expect(one.body.connection_state).toBe('lost');
    expect(one.body.meta_data).toContain('queue=default');
    const lostJob = sim.builds().flatMap((b) => b.jobs).find((j) => j.agentId === lost!.id && j.exitStatus === -1);
    expect(lostJob?.state).toBe('failed');
    expect((await api(sim, org('/agents/no-such'))).body).toEqual({ message: 'No agent found' });
  });
});

describe('Buildkite simulator: lifecycle', () => {
  it('runs a build scheduled → running → passed through every command job state', async () => {
    const sim = await start();
    const build = sim.triggerBuild({ pipeline: 'api', branch: 'main' });
    const states = new Set<string>();
    const buildStates: string[] = [];
    for (let i = 0; i < 40 && build.state !== 'passed'; i++) {
      const got = await api(sim, org(`/pipelines/api/builds/${build.number}`));
      if (buildStates.at(-1) !== got.body.state) buildStates.push(got.body.state);
      for (const j of got.body.jobs) states.add(`${j.type}:${j.state}`);
      await sim.step();
    }
    const done = await api(sim, org(`/pipelines/api/builds/${build.number}`));
    buildStates.push(done.body.state);
    expect(buildStates).toEqual(['scheduled', 'running', 'passed']);
    for (const s of ['pending', 'scheduled', 'assigned', 'accepted', 'running']) expect(states).toContain(`script:${s}`);
    expect(states).toContain('waiter:waiting');
    expect(done.body.blocked).toBe(false);
    expect(done.body.finished_at).not.toBeNull();
    const deploy = done.body.jobs.find((j: { step_key: string }) => j.step_key === 'deploy');
    expect(deploy).toMatchObject({ state: 'passed', exit_status: 0, agent_query_rules: ['queue=deploy'] });
    expect(deploy.agent.name).toBe('deploy-1');
  });

  it('fails a build: failing while jobs still run, then failed with the jobs behind the wait waiting_failed', async () => {
    const sim = await start();
    const build = sim.triggerBuild({ pipeline: 'api', branch: 'main', outcomes: { lint: 'failed' } });
    await stepUntil(sim, () => build.state === 'failing');
    const failing = await api(sim, org(`/pipelines/api/builds/${build.number}`));
    expect(failing.body.state).toBe('failing');
    expect(failing.body.failing_at).not.toBeNull();
    await sim.runUntilIdle();
    const done = await api(sim, org(`/pipelines/api/builds/${build.number}`));
    expect(done.body.state).toBe('failed');
    expect(done.body.jobs.map((j: { state: string }) => j.state)).toEqual(['passed', 'failed', 'waiting_failed', 'waiting_failed']);
  });

  it('returns a failing build to running when its only failure is retried, and passes it', async () => {
    const sim = await start();
    const build = sim.triggerBuild({ pipeline: 'api', branch: 'main', outcomes: { lint: 'failed' } });
    await stepUntil(sim, () => build.state === 'failing');
    const lint = build.jobs.find((j) => j.step.key === 'lint')!;
    await sim.retryJob(lint.id, 'passed');
    await sim.step();
    expect(build.state).toBe('running');
    expect(build.failingAt).not.toBeNull();
    await sim.runUntilIdle();
    expect(build.state).toBe('passed');
  });

  it('stops at a block step as passed + blocked, and runs on once unblocked with fields', async () => {
    const sim = await start();
    const build = sim.triggerBuild({ pipeline: 'ios', branch: 'main' });
    await stepUntil(sim, () => build.blocked);
    await sim.runUntilIdle();
    const blocked = await api(sim, org(`/pipelines/ios/builds/${build.number}`));
    expect(blocked.body).toMatchObject({ state: 'passed', blocked: true, blocked_state: 'passed' });
    expect(blocked.body.finished_at).not.toBeNull();
    const block = blocked.body.jobs.find((j: { type: string }) => j.type === 'manual');
    expect(block).toMatchObject({ state: 'blocked', label: ':testflight: Ship to TestFlight?', unblockable: true });
    expect((await api(sim, org(`/builds?state=blocked`))).body.map((b: { id: string }) => b.id)).toContain(build.id);
    const unblockPath = org(`/pipelines/ios/builds/${build.number}/jobs/${block.id}/unblock`);
    // The step's fields are in the embedded pipeline's steps; a required one missing or a select outside its options is refused.
    const step = blocked.body.pipeline.steps.find((s: { key?: string }) => s.key === 'ship');
    expect(step.fields.map((f: { key: string; required: boolean }) => [f.key, f.required])).toEqual([['notes', true], ['track', true]]);
    const missing = await api(sim, unblockPath, { method: 'PUT', body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toMatch(/notes field/);
    expect((await api(sim, unblockPath, { method: 'PUT', body: { fields: { notes: 'x', track: 'beta' } } })).status).toBe(422);
    const unblocked = await api(sim, unblockPath, { method: 'PUT', body: { fields: { notes: 'v1.2' } } });
    expect(unblocked.status).toBe(200);
    expect(unblocked.body).toMatchObject({ state: 'unblocked', fields: { notes: 'v1.2', track: 'internal' } });
    expect((await api(sim, unblockPath, { method: 'PUT', body: { fields: { notes: 'again' } } })).status).toBe(422);
    expect(unblocked.body.unblocked_by.name).toBeTruthy();
    await sim.runUntilIdle();
    const done = await api(sim, org(`/pipelines/ios/builds/${build.number}`));
    expect(done.body).toMatchObject({ state: 'passed', blocked: false });
    expect(done.body.jobs.at(-1).state).toBe('passed');
  });

  it('covers soft fail, broken/not_run, skipped, limited, expired, timed_out and a lost agent', async () => {
    const sim = await start({ agents: [
      { name: 'linux-1', tags: ['queue=default'] }, { name: 'linux-2', tags: ['queue=default'] },
      { name: 'linux-3', tags: ['queue=default'] }, { name: 'deploy-1', tags: ['queue=deploy'] },
    ] });
    // skip_queued_branch_builds: the older queued web build on the branch is skipped.
    const older = sim.triggerBuild({ pipeline: 'web', branch: 'feature/x' });
    const web = sim.triggerBuild({ pipeline: 'web', branch: 'feature/x', outcomes: { build: 'timed_out' } });
    expect(older.state).toBe('skipped');
    expect(older.jobs.every((j) => j.state === 'skipped')).toBe(true);
    const docs = sim.triggerBuild({ pipeline: 'docs', branch: 'feature/x' });
    const api1 = sim.triggerBuild({ pipeline: 'api', branch: 'main' });
    const api2 = sim.triggerBuild({ pipeline: 'api', branch: 'main' });
    const ios = sim.triggerBuild({ pipeline: 'ios', branch: 'main' });
    const seen = new Set<string>();
    for (let i = 0; i < 80; i++) {
      for (const b of [web, api1, api2, ios, docs]) for (const j of b.jobs) seen.add(j.state);
      if (!(await sim.step())) break;
    }
    expect(docs.state).toBe('not_run');
    expect(docs.jobs[0]!.state).toBe('broken');
    expect(seen).toContain('limited');
    expect(seen).toContain('timing_out');
    expect(ios.jobs[0]!.state).toBe('expired');
    expect(ios.state).toBe('failed');
    const audit = web.jobs.find((j) => j.step.key === 'audit')!;
    expect(audit).toMatchObject({ state: 'failed', softFailed: true });
    expect(web.jobs.find((j) => j.step.key === 'build')!.state).toBe('timed_out');
    expect(web.state).toBe('failed');
    expect(api1.state).toBe('passed');
    expect(api2.state).toBe('passed');

    const lose = sim.triggerBuild({ pipeline: 'api', branch: 'feature/y' });
    await stepUntil(sim, () => lose.jobs[0]!.state === 'running');
    const agentName = sim.world.agent(lose.jobs[0]!.agentId!)!.name;
    await sim.loseAgent(agentName);
    const got = await api(sim, org(`/pipelines/api/builds/${lose.number}/jobs/${lose.jobs[0]!.id}`));
    expect(got.body).toMatchObject({ state: 'failed', exit_status: -1, soft_failed: false });
    expect(got.body.agent.connection_state).toBe('lost');
  });
});

describe('Buildkite simulator: actions', () => {
  it('cancels, rebuilds, retries, unblocks and creates, refusing what Buildkite refuses', async () => {
    const sim = await start({ tokens: [{ token: 'reader', scopes: ['read_builds'] }] });
    const build = sim.triggerBuild({ pipeline: 'api', branch: 'main', outcomes: { test: 'failed' } });
    const path = org(`/pipelines/api/builds/${build.number}`);
    expect((await api(sim, `${path}/cancel`, { method: 'PUT', token: 'reader' })).status).toBe(403);
    await sim.runUntilIdle();
    expect(build.state).toBe('failed');
    const cancelFinished = await api(sim, `${path}/cancel`, { method: 'PUT' });
    expect(cancelFinished.status).toBe(422);
    const passedJob = build.jobs.find((j) => j.step.key === 'lint')!;
    expect((await api(sim, `${path}/jobs/${passedJob.id}/retry`, { method: 'PUT' })).status).toBe(422);
    const failedJob = build.jobs.find((j) => j.step.key === 'test')!;
    const retry = await api(sim, `${path}/jobs/${failedJob.id}/retry`, { method: 'PUT' });
    expect(retry.status).toBe(200);
    expect(retry.body.id).not.toBe(failedJob.id);
    expect(retry.body).toMatchObject({ retries_count: 1, retry_type: 'manual', retry_source: { job_id: failedJob.id } });
    const again = await api(sim, `${path}/jobs/${failedJob.id}/retry`, { method: 'PUT' });
    expect(again.status).toBe(422);
    expect(again.body.message).toMatch(/already been retried/);
    const current = await api(sim, path);
    expect(current.body.state).toBe('running');
    expect(current.body.jobs.some((j: { id: string }) => j.id === failedJob.id)).toBe(false);
    const withRetried = await api(sim, `${path}?include_retried_jobs=true`);
    expect(withRetried.body.jobs.find((j: { id: string }) => j.id === failedJob.id)).toMatchObject({ retried: true, retried_in_job_id: retry.body.id });
    const waiter = build.jobs.find((j) => j.type === 'waiter')!;
    expect((await api(sim, `${path}/jobs/${waiter.id}/unblock`, { method: 'PUT' })).status).toBe(400);

    const running = sim.triggerBuild({ pipeline: 'web', branch: 'main' });
    await stepUntil(sim, () => running.jobs.some((j) => j.state === 'running'));
    const canceled = await api(sim, org(`/pipelines/web/builds/${running.number}/cancel`), { method: 'PUT' });
    expect(canceled.status).toBe(200);
    expect(canceled.body.state).toBe('canceling');
    await stepUntil(sim, () => running.state === 'canceled', 5);

    const rebuilt = await api(sim, `${path}/rebuild`, { method: 'PUT' });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toMatchObject({ state: 'scheduled', commit: build.commit, rebuilt_from: { number: build.number } });
    const created = await api(sim, org('/pipelines/web/builds'), { method: 'POST', body: { commit: 'abc123', branch: 'main', message: 'Hi', env: { A: '1' }, meta_data: { k: 'v' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ commit: 'abc123', branch: 'main', message: 'Hi', env: { A: '1' }, meta_data: { k: 'v' }, source: 'api' });
    expect((await api(sim, org('/pipelines/web/builds'), { method: 'POST', body: { branch: 'main' } })).status).toBe(422);
    expect((await api(sim, org('/pipelines/web/builds/9999'))).body).toEqual({ message: 'No build found' });
    expect((await api(sim, org('/pipelines/nope/builds'))).body).toEqual({ message: 'No pipeline found' });
  });
});

describe('Buildkite simulator: logs', () => {
  it('serves a job log as JSON, raw text and a Range tail, with read_build_logs', async () => {
    const sim = await start({ logs: 'exact', tokens: [{ token: 'no-logs', scopes: ['read_builds'] }] });
    const build = sim.triggerBuild({ pipeline: 'api', branch: 'feature/z' });
    const job = build.jobs[0]!;
    await stepUntil(sim, () => job.state === 'running');
    sim.appendLog(job.id, '\u001b_bk;t=1000\u0007--- :go: Running tests\nok  \tacme/api\t0.4s\n');
    const base = org(`/pipelines/api/builds/${build.number}/jobs/${job.id}`);
    const json = await api(sim, `${base}/log`);
    expect(json.status).toBe(200);
    expect(json.body.content).toContain('ok  \tacme/api');
    expect(json.body.size).toBe(Buffer.byteLength(json.body.content));
    expect(json.body.header_times).toEqual([1000]);
    expect(json.body.url).toContain(`/jobs/${job.id}/log`);
    const raw = await api(sim, `${base}/log.txt`);
    expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(raw.text).toBe(json.body.content);
    const tail = await api(sim, `${base}/log.txt`, { headers: { range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(tail.text).toBe(json.body.content.slice(-5));
    const head = await fetch(`${sim.url}/v2${base}/log.txt`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(head.headers.get('content-length')).toBe(String(json.body.size));
    expect((await api(sim, `${base}/log`, { token: 'no-logs' })).status).toBe(403);
    await sim.runUntilIdle();
    expect((await api(sim, `${base}/log.txt`)).text).toContain('Job succeeded');
  });
});

describe('Buildkite simulator: webhooks', () => {
  it('delivers signed events a receiver verifies with HMAC-SHA256 over "timestamp.body"', async () => {
    const secret = 'whsec';
    const got: { event: string; verified: boolean; body: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const parts = Object.fromEntries(String(req.headers['x-buildkite-signature']).split(',').map((kv) => kv.split('=') as [string, string]));
        const expected = createHmac('sha256', secret).update(`${parts.timestamp}.${body}`).digest();
        const given = Buffer.from(parts.signature ?? '', 'hex');
        const verified = given.length === expected.length && timingSafeEqual(given, expected);
        got.push({ event: String(req.headers['x-buildkite-event']), verified, body: JSON.parse(body) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => receiver.close(() => r())) });
    const sim = await start();
    sim.addWebhook({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, mode: 'signature', secret });
    const build = sim.triggerBuild({ pipeline: 'ios', branch: 'main' });
    await sim.runUntilIdle();
    await sim.unblock('ios', build.number);
    await sim.runUntilIdle();
    await sim.drain();
    expect(got.every((g) => g.verified)).toBe(true);
    const events = got.map((g) => g.event);
    for (const e of ['build.scheduled', 'build.running', 'job.scheduled', 'job.started', 'job.finished', 'job.activated', 'build.finished']) expect(events).toContain(e);
    const finished = got.filter((g) => g.event === 'build.finished');
    expect(finished.map((g) => g.body.build.blocked)).toEqual([true, false]);
    expect(finished[0]!.body.build.jobs).toBeUndefined();
    expect(finished[0]!.body.pipeline.slug).toBe('ios');
    const started = got.find((g) => g.event === 'job.started')!;
    expect(started.body.job.state).toBe('running');
    expect(started.body.build.number).toBe(build.number);
    expect(sim.deliveries.length).toBe(got.length);
  });

  it('sends X-Buildkite-Token in token mode and only subscribed events', async () => {
    const got: { event: string; token: string | undefined }[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push({ event: String(req.headers['x-buildkite-event']), token: req.headers['x-buildkite-token'] as string | undefined });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => receiver.close(() => r())) });
    const sim = await start();
    sim.addWebhook({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, mode: 'token', secret: 'tok', events: ['build.finished', 'agent.lost'] });
    sim.triggerBuild({ pipeline: 'docs', branch: 'main' });
    await sim.runUntilIdle();
    await sim.loseAgent('ci-linux-1');
    await sim.ping();
    await sim.drain();
    // ping goes to every webhook, whatever it subscribed to.
    expect(got).toEqual([{ event: 'build.finished', token: 'tok' }, { event: 'agent.lost', token: 'tok' }, { event: 'ping', token: 'tok' }]);
    expect(JSON.parse(sim.deliveries.at(-1)!.body)).toMatchObject({ event: 'ping', service: { settings: { url: sim.deliveries[0]!.url } }, organization: { slug: 'acme' } });
    expect(sim.deliveries[0]!.headers['X-Buildkite-Signature']).toBeUndefined();
  });
});

describe('Buildkite simulator: rate limit', () => {
  it('sends RateLimit headers on every answer and 429 past the limit', async () => {
    const now = new Date('2026-03-02T10:00:00Z');
    const sim = await start({ rateLimit: { limit: 3, windowSeconds: 60 }, now: () => now });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(sim, org('/pipelines'));
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-limit')).toBe('3');
      expect(r.headers.get('ratelimit-reset')).toBe('60');
      remaining.push(r.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const over = await api(sim, org('/pipelines'));
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ scope: 'rest', limit: 3, current: 4 });
    expect(over.headers.get('ratelimit-remaining')).toBe('0');
    expect(over.headers.get('ratelimit-warning')).toBeTruthy();
    expect(over.headers.get('ratelimit-user-limit')).toBeNull();
  });

  it('limits each token on its own with RateLimit-User-* when a user limit is set', async () => {
    const now = new Date('2026-03-02T10:00:00Z');
    const sim = await start({ rateLimit: { limit: 100, windowSeconds: 60 }, userRateLimit: { limit: 2, windowSeconds: 30 }, tokens: [{ token: 'other', scopes: ['read_pipelines'] }], now: () => now });
    const a = [await api(sim, org('/pipelines')), await api(sim, org('/pipelines'))];
    expect(a.map((r) => r.headers.get('ratelimit-user-remaining'))).toEqual(['1', '0']);
    expect(a[0]!.headers.get('ratelimit-user-reset')).toBe('30');
    const over = await api(sim, org('/pipelines'));
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ scope: 'rest_user', limit: 2, current: 3 });
    expect(over.headers.get('ratelimit-remaining')).toBe('97');
    const other = await api(sim, org('/pipelines'), { token: 'other' });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-user-remaining')).toBe('1');
  });
});

describe('Buildkite simulator: seeded past and demo', () => {
  it('seeds a week of finished builds: retried flaky jobs, an incident agent, a starved Mac queue', async () => {
    const sim = await start({ pastDays: 7, history: 0, seed: 11 });
    const builds = sim.builds();
    expect(builds.length).toBeGreaterThan(100);
    expect(builds.every((b) => ['passed', 'failed', 'canceled', 'not_run'].includes(b.state))).toBe(true);
    // Build numbers grow with time in each pipeline.
    for (const slug of ['web', 'api', 'ios']) {
      const own = [...sim.builds(slug)].reverse();
      expect(own.map((b) => b.number)).toEqual(own.map((_, i) => i + 1));
    }
    const jobs = builds.flatMap((b) => b.jobs);
    const retried = jobs.filter((j) => j.retried);
    expect(retried.length).toBeGreaterThan(0);
    for (const j of retried) expect(sim.job(j.retriedInJobId!)).toMatchObject({ retriesCount: 1, retrySource: { job_id: j.id } });
    const lost = jobs.filter((j) => j.state === 'failed' && j.exitStatus === -1);
    expect(lost.length).toBeGreaterThan(2);
    expect(new Set(lost.map((j) => j.agentId)).size).toBe(1);
    const wait = (queue: string) => {
      const w = jobs.filter((j) => j.step.type === 'command' && j.step.queue === queue && j.startedAt !== null && j.runnableAt !== null)
        .map((j) => j.startedAt! - j.runnableAt!);
      return w.reduce((a, b) => a + b, 0) / w.length;
    };
    expect(wait('macos')).toBeGreaterThan(3 * wait('default'));
    // Served by the ordinary endpoints, retried jobs only on request.
    const one = retried[0]!;
    const owner = builds.find((b) => b.jobs.includes(one))!;
    const path = org(`/pipelines/${owner.pipeline.slug}/builds/${owner.number}`);
    expect((await api(sim, path)).body.jobs.map((j: { id: string }) => j.id)).not.toContain(one.id);
    expect((await api(sim, `${path}?include_retried_jobs=true`)).body.jobs.map((j: { id: string }) => j.id)).toContain(one.id);
  });

  it('createBuildkiteDemo returns the backend options and delivers signed webhooks once started', async () => {
    const { createBuildkiteDemo } = await import('../../adapters/buildkite/demo.ts');
    const demo = await createBuildkiteDemo({ seed: 5 });
    open.push({ close: () => demo.stop() });
    const o = demo.options as { url: string; organization: string; token: { value: string }; writeToken: { value: string }; webhookSecret: { value: string } };
    expect(Object.keys(o).sort()).toEqual(['organization', 'pollIntervalSeconds', 'requestsPerMinute', 'token', 'url', 'webhookSecret', 'writeToken']);
    const read = await fetch(`${o.url}/v2/organizations/${o.organization}/builds?state=blocked`, { headers: { authorization: `Bearer ${o.token.value}` } });
    expect(read.status).toBe(200);
    const blocked = (await read.json()) as { number: number; pipeline: { slug: string }; jobs: { id: string; type: string; state: string }[] }[];
    expect(blocked.length).toBeGreaterThan(0);
    const gate = blocked[0]!.jobs.find((j) => j.type === 'manual' && j.state === 'blocked')!;
    const unblockPath = `${o.url}/v2/organizations/${o.organization}/pipelines/${blocked[0]!.pipeline.slug}/builds/${blocked[0]!.number}/jobs/${gate.id}/unblock`;
    // The read token cannot act; the write token can.
    expect((await fetch(unblockPath, { method: 'PUT', headers: { authorization: `Bearer ${o.token.value}` } })).status).toBe(403);
    const unblock = { method: 'PUT', body: JSON.stringify({ fields: { notes: 'Demo release' } }), headers: { 'content-type': 'application/json', authorization: `Bearer ${o.writeToken.value}` } };
    expect((await fetch(unblockPath, unblock)).status).toBe(200);

    let resolveFirst!: (ok: boolean) => void;
    const first = new Promise<boolean>((r) => (resolveFirst = r));
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const [ts, sig] = String(req.headers['x-buildkite-signature']).split(',').map((kv) => kv.split('=')[1]);
        resolveFirst(createHmac('sha256', o.webhookSecret.value).update(`${ts}.${body}`).digest('hex') === sig);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => receiver.close(() => r())) });
    demo.start(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/buildkite-demo`);
    expect(await first).toBe(true);
  });
});
