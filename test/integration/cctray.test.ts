/**
 * Issue 16 item 4: the CCTray feed at /cc.xml against a real gateway and the GitHub simulator
 * (webhooks on loopback). Every body is parsed by two XML parsers and validated against the
 * cctray.org/v1 schema (test/fixtures/cctray).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { parseFeed, type FeedProject } from '../helpers/cctray-feed.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';
import { postgresSchemaEnv } from '../helpers/history-stores.ts';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function feed(stack: Stack, query = '', headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(`${stack.base}/cc.xml${query}`, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const byName = (projects: FeedProject[]) => Object.fromEntries(projects.map((p) => [p.name, p]));

describe('cc.xml in required mode', () => {
  let stack: Stack;
  let everything: string;
  let webOnly: string;
  const auditFile = join(mkdtempSync(join(tmpdir(), 'switchyard-cctray-')), 'audit.jsonl');
  const read = async (query = '', key = everything) => {
    const res = await feed(stack, query, { authorization: basic('monitor', key) });
    expect(res.status, res.body).toBe(200);
    return parseFeed(res.body);
  };

  beforeAll(async () => {
    const a = await createApiKey('everything');
    const b = await createApiKey('web-only');
    everything = a.key;
    webOnly = b.key;
    stack = await startStack({
      sim: { repositories: ['api', 'web'], history: 0 },
      config: {
        audit: { file: auditFile },
        auth: {
          mode: 'required',
          apiKeys: [
            { id: 'everything', hash: a.hash, scopes: [{ backends: ['*'] }] },
            { id: 'web-only', hash: b.hash, scopes: [{ backends: ['gh'], projects: ['octo-org/web'] }] },
          ],
        },
      },
    });
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'failure' }] });
    await stack.sim.triggerRun({ repo: 'web', workflow: 'CI', jobs: [{ name: 'test', outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    await waitFor(async () => (await read()).filter((p) => p.lastBuildStatus !== 'Unknown').length === 2, 10_000, 'both runs finished in the feed');
  });
  afterAll(() => stack?.close());

  it('should show a failed and a passed project with every cctray attribute (Basic auth)', async () => {
    const res = await feed(stack, '', { authorization: basic('monitor', everything) });
    expect(res.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const projects = byName(parseFeed(res.body));
    expect(Object.keys(projects)).toEqual(['gh/octo-org/api', 'gh/octo-org/web']);
    const api = projects['gh/octo-org/api']!;
    expect(api).toMatchObject({ activity: 'Sleeping', lastBuildStatus: 'Failure', lastBuildLabel: '1' });
    expect(api.webUrl).toMatch(/\/octo-org\/api\/actions\/runs\/\d+$/);
    const run = stack.sim.world.runs('api')[0]!;
    expect(new Date(api.lastBuildTime).getTime()).toBe(new Date(run.updatedAt).getTime());
    expect(projects['gh/octo-org/web']).toMatchObject({ activity: 'Sleeping', lastBuildStatus: 'Success' });
  });

  it('should give the same feed to the X-Api-Key header and to a Bearer token', async () => {
    const viaBasic = (await feed(stack, '', { authorization: basic('monitor', everything) })).body;
    expect((await feed(stack, '', { 'x-api-key': everything })).body).toBe(viaBasic);
    expect((await feed(stack, '', { authorization: `Bearer ${everything}` })).body).toBe(viaBasic);
    expect((await feed(stack, '', { authorization: basic(everything, '') })).body).toBe(viaBasic);
  });

  it('should answer 401 with a Basic challenge without credentials or with a wrong password', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: basic('monitor', 'sy_nope_AAAA') }, { authorization: basic('', '') }]) {
      const res = await feed(stack, '', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Basic realm="switchyard"');
      expect(res.body).not.toContain('<Project');
    }
  });

  it('should show a key restricted to octo-org/web that project only, whatever it asks for', async () => {
    expect((await read('', webOnly)).map((p) => p.name)).toEqual(['gh/octo-org/web']);
    expect(await read('?project=octo-org/api', webOnly)).toEqual([]);
  });

  it('should filter by backend, project, branch, pipeline and status', async () => {
    expect((await read('?backend=gh')).length).toBe(2);
    expect((await read('?project=octo-org/w*')).map((p) => p.name)).toEqual(['gh/octo-org/web']);
    expect((await read('?status=failure')).map((p) => p.name)).toEqual(['gh/octo-org/api']);
    expect((await read('?status=Failure&status=Exception&project=octo-org/web'))).toEqual([]);
    expect((await read('?pipeline=CI')).length).toBe(2);
    expect((await read('?pipeline=Nightly'))).toEqual([]);
    expect((await read('?branch=*')).map((p) => p.name)).toEqual(['gh/octo-org/api @ main', 'gh/octo-org/web @ main']);
    expect((await read('?branch=feature/x'))).toEqual([]);
  });

  it('should answer 400 naming the parameter at fault', async () => {
    const cases: [string, RegExp][] = [
      ['?backend=nope', /parameter "backend": no backend named "nope"/],
      ['?status=red', /parameter "status": expected one of Success, Failure, Exception, Unknown/],
      ['?project=a//b', /parameter "project"/],
      ['?branch=*&branch=main', /parameter "branch"/],
      ['?colour=green', /unknown parameter "colour"/],
    ];
    for (const [query, message] of cases) {
      const res = await feed(stack, query, { authorization: basic('monitor', everything) });
      expect(res.status, query).toBe(400);
      expect(res.body).toMatch(message);
    }
    // A backend outside the caller's scope looks exactly like one that does not exist.
    expect((await feed(stack, '?backend=gh', { authorization: basic('m', webOnly) })).status).toBe(200);
  });

  it('should answer 304 to If-None-Match with the current ETag, and HEAD without a body', async () => {
    const first = await feed(stack, '', { authorization: basic('monitor', everything) });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await feed(stack, '', { authorization: basic('monitor', everything), 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const other = await feed(stack, '', { authorization: basic('monitor', webOnly), 'if-none-match': etag });
    expect(other.status).toBe(200);
    const head = await fetch(`${stack.base}/cctray.xml`, { method: 'HEAD', headers: { authorization: basic('monitor', everything) } });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(etag);
    expect(await head.text()).toBe('');
    const post = await fetch(`${stack.base}/cc.xml`, { method: 'POST', headers: { authorization: basic('monitor', everything) } });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('should audit every read, as GraphQL reads are: who, what, the answer', async () => {
    await feed(stack, '?project=octo-org/web&status=Success', { authorization: basic('monitor', webOnly) });
    await feed(stack, '?status=red', { authorization: basic('monitor', webOnly) });
    await stack.gateway.audit.flush();
    const records = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).filter((r) => r.kind === 'feed');
    expect(records.slice(-2)).toMatchObject([
      { kind: 'feed', identity: { id: 'key:web-only', kind: 'api-key' }, path: '/cc.xml', query: '?project=octo-org/web&status=Success', status: 200, projects: 1 },
      { kind: 'feed', identity: { id: 'key:web-only' }, query: '?status=red', status: 400, projects: null },
    ]);
    expect(records.some((r) => r.kind === 'feed' && r.status === 304)).toBe(true);
    expect(readFileSync(auditFile, 'utf8')).not.toContain(webOnly);
  });

  it('should keep the failure while the fix builds, then show it fixed (and a new ETag)', async () => {
    const before = (await feed(stack, '', { authorization: basic('monitor', everything) })).headers.get('etag');
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'success', steps: ['a', 'b', 'c'] }] });
    await stack.sim.step();
    // Queued or running, depending on whether a runner is free at this step: either way not asleep.
    const active = (activity: string | undefined) => activity === 'Building' || activity === 'CheckingModifications';
    await waitFor(async () => active(byName(await read())['gh/octo-org/api']?.activity), 10_000, 'api building');
    const building = byName(await read())['gh/octo-org/api'];
    expect(active(building?.activity)).toBe(true);
    expect(building).toMatchObject({ lastBuildStatus: 'Failure', lastBuildLabel: '1' });
    await stack.sim.runUntilIdle();
    await waitFor(async () => byName(await read())['gh/octo-org/api']?.lastBuildStatus === 'Success', 10_000, 'api fixed');
    expect(byName(await read())['gh/octo-org/api']).toMatchObject({ activity: 'Sleeping', lastBuildStatus: 'Success', lastBuildLabel: '2' });
    const res = await feed(stack, '', { authorization: basic('monitor', everything), 'if-none-match': before! });
    expect(res.status).toBe(200);
  });
});

describe('cc.xml in open mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 0 } });
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'timed_out' }] });
    await stack.sim.runUntilIdle();
  });
  afterAll(() => stack?.close());

  it('should serve anonymous callers everything, and still refuse a bad credential', async () => {
    await waitFor(async () => parseFeed((await feed(stack)).body).some((p) => p.lastBuildStatus === 'Failure'), 10_000, 'timed-out run in the feed');
    expect(parseFeed((await feed(stack)).body)).toMatchObject([{ name: 'gh/octo-org/api', lastBuildStatus: 'Failure', activity: 'Sleeping' }]);
    expect((await feed(stack, '', { authorization: basic('m', 'sy_nope_AAAA') })).status).toBe(401);
  });
});

describe('cc.xml after a restart (history on PostgreSQL)', () => {
  let drop = async () => {};
  let env: NodeJS.ProcessEnv;
  const stacks: Stack[] = [];
  const start = async () => {
    const stack = await startStack({ sim: { repositories: ['api'], history: 0 }, config: { history: { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' } } }, env });
    stacks.push(stack);
    await stack.gateway.history.ready;
    return stack;
  };
  beforeAll(async () => {
    ({ env, drop } = await postgresSchemaEnv('cctray_it'));
  });
  afterAll(async () => {
    for (const s of stacks) await s.close();
    await drop();
  });

  it('should still show the last verdict, from the history, when the live state holds none', async () => {
    const first = await start();
    await first.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'failure' }] });
    await first.sim.runUntilIdle();
    await waitFor(async () => (await first.gateway.history.store().query<{ status: string }>(`SELECT status FROM pipelines`))[0]?.status === 'FAILURE', 15_000, 'the failed run in the history');
    const before = parseFeed((await feed(first)).body);
    expect(before).toMatchObject([{ name: 'gh/octo-org/api', lastBuildStatus: 'Failure', lastBuildLabel: '1' }]);
    await first.close();
    stacks.length = 0;

    // A new gateway over the same database: its live state is empty, the upstream has forgotten the run.
    const second = await start();
    expect([...second.gateway.services.state.all('Pipeline')]).toEqual([]);
    expect(parseFeed((await feed(second)).body)).toEqual(before);
  });
});

describe('cc.xml over GitLab and GitHub side by side', () => {
  let stack: GitlabStack;
  let backendOnly: string;
  beforeAll(async () => {
    const key = await createApiKey('gl-backend');
    backendOnly = key.key;
    stack = await startGitlabStack({
      sim: { projects: ['backend', 'frontend'], history: 0 },
      github: { repositories: ['api'], history: 0 },
      config: { auth: { mode: 'open', apiKeys: [{ id: 'gl-backend', hash: key.hash, scopes: [{ backends: ['gl'], projects: ['platform/backend'] }] }] } },
    });
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'build', stage: 'build', outcome: 'failed' }] });
    await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'test', stage: 'test', outcome: 'canceled' }] });
    await stack.sim.runUntilIdle();
    await stack.github!.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'success' }] });
    await stack.github!.runUntilIdle();
  });
  afterAll(() => stack?.close());

  it('should list both backends in one feed, GitLab projects by full name, a canceled pipeline as Unknown', async () => {
    let projects: FeedProject[] = [];
    await waitFor(async () => {
      projects = parseFeed(await (await fetch(`${stack.base}/cc.xml`)).text());
      return projects.filter((p) => p.lastBuildLabel !== undefined).length === 3;
    }, 10_000, 'three finished pipelines');
    expect(projects.map((p) => `${p.name}=${p.lastBuildStatus}`)).toEqual(['gh/octo-org/api=Success', 'gl/platform/backend=Failure', 'gl/platform/frontend=Unknown']);
    expect(byName(projects)['gl/platform/backend']!.webUrl).toMatch(/\/platform\/backend\/-\/pipelines\/\d+$/);
  });

  it('should scope a key by GitLab full name although its native ids are numbers', async () => {
    const res = await fetch(`${stack.base}/cc.xml`, { headers: { authorization: basic('monitor', backendOnly) } });
    expect(parseFeed(await res.text()).map((p) => p.name)).toEqual(['gl/platform/backend']);
  });
});

describe('cc.xml over Jenkins', () => {
  let stack: JenkinsStack;
  beforeAll(async () => {
    stack = await startJenkinsStack({ sim: { history: 0 } });
    // The simulator does not push to this gateway: polls bring the build (the first takes the baseline).
    await stack.gateway.scheduler.pollNow('jk');
    await stack.sim.triggerBuild({ job: 'team-a/service', result: 'FAILURE' });
    await stack.sim.runUntilIdle();
  });
  afterAll(() => stack?.close());

  it('should list a plain Jenkins job (no default branch; its builds record "main") with its last build', async () => {
    let projects: FeedProject[] = [];
    await waitFor(async () => {
      await stack.gateway.scheduler.pollNow('jk');
      projects = parseFeed(await (await fetch(`${stack.base}/cc.xml?project=team-a/service`)).text());
      return projects[0]?.lastBuildStatus === 'Failure';
    }, 10_000, 'the failed build in the feed');
    expect(projects).toMatchObject([{ name: 'jk/team-a/service', activity: 'Sleeping', lastBuildStatus: 'Failure', lastBuildLabel: '1' }]);
    expect(projects[0]!.webUrl).toMatch(/\/job\/team-a\/job\/service\/1\/?$/);
  });
});
