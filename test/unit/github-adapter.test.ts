import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import githubAdapter, { type GithubAdapter } from '../../adapters/github/index.ts';
import type { AdapterContext, SecretRef } from '../../src/adapter-contract.ts';
import type { EntityModel, JobModel, PipelineModel } from '../../src/model.ts';
import { useFakeUpstream } from '../helpers/fake-upstream.ts';

/**
 * A small in-memory GitHub (node:http on 127.0.0.1:0) with ETags, enough to
 * count the upstream calls the adapter makes.
 */
type Json = Record<string, unknown>;
interface FakeState {
  orgRepos: Record<string, Json[]>;
  repos: Record<string, Json>;
  runs: Record<string, Json[]>; // by repo
  jobs: Record<string, Json[]>; // by run id
  orgRunners: Record<string, Json[]>;
  repoRunners: Record<string, Json[]>;
  rateLimitRemaining: number;
}
let state: FakeState;
const requests: string[] = [];
const START_MS = Date.parse('2030-01-01T00:00:00Z');
/** The adapter's clock; tests move it forward. */
let clockMs = START_MS;

const repo = (full: string): Json => ({ full_name: full, name: full.split('/')[1], html_url: `https://github.com/${full}`, default_branch: 'main', updated_at: '2024-01-01T00:00:00Z' });
const run = (full: string, id: number, status: string, conclusion: string | null, created: string, branch = 'main'): Json => ({
  id, run_number: id, run_attempt: 1, name: 'CI', status, conclusion, head_branch: branch, head_sha: 'abc', event: 'push',
  created_at: created, updated_at: created, run_started_at: created, html_url: `https://github.com/${full}/actions/runs/${id}`,
  url: `${upstream.url}/repos/${full}/actions/runs/${id}`, repository: { full_name: full }, actor: { login: 'octocat' },
});
const job = (full: string, id: number, runId: number, status: string, runnerId: number | null): Json => ({
  id, run_id: runId, name: `job-${id}`, status, conclusion: status === 'completed' ? 'success' : null, labels: ['self-hosted'],
  created_at: '2024-01-01T00:00:00Z', started_at: '2024-01-01T00:00:10Z', completed_at: null, runner_id: runnerId, runner_name: runnerId ? `r${runnerId}` : null,
  url: `${upstream.url}/repos/${full}/actions/jobs/${id}`, steps: [],
});
const runner = (id: number, busy: boolean): Json => ({ id, name: `r${id}`, os: 'linux', status: 'online', busy, ephemeral: false, version: '2.0', labels: [{ name: 'self-hosted' }] });

function route(path: string, q: URLSearchParams): unknown {
  let m: RegExpExecArray | null;
  if ((m = /^\/orgs\/([^/]+)\/repos$/.exec(path))) return state.orgRepos[m[1]!];
  if ((m = /^\/orgs\/([^/]+)\/actions\/runners$/.exec(path))) return state.orgRunners[m[1]!] && { total_count: state.orgRunners[m[1]!]!.length, runners: state.orgRunners[m[1]!] };
  if ((m = /^\/repos\/([^/]+\/[^/]+)\/actions\/runners$/.exec(path))) return state.repoRunners[m[1]!] && { runners: state.repoRunners[m[1]!] };
  if ((m = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs$/.exec(path))) {
    const all = state.runs[m[1]!];
    if (!all) return undefined;
    const status = q.get('status');
    const branch = q.get('branch');
    const filtered = all
      .filter((r) => !status || r.status === status || r.conclusion === status)
      .filter((r) => !branch || r.head_branch === branch);
    const perPage = Number(q.get('per_page') ?? 30);
    const page = Number(q.get('page') ?? 1);
    return { total_count: filtered.length, workflow_runs: filtered.slice((page - 1) * perPage, page * perPage) };
  }
  if ((m = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/jobs$/.exec(path))) {
    const jobs = state.jobs[m[2]!];
    return jobs && { total_count: jobs.length, jobs };
  }
  if ((m = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/.exec(path))) return state.runs[m[1]!]?.find((r) => String(r.id) === m![2]);
  if ((m = /^\/repos\/([^/]+\/[^/]+)\/actions\/jobs\/(\d+)$/.exec(path))) return Object.values(state.jobs).flat().find((j) => String(j.id) === m![2]);
  if ((m = /^\/repos\/([^/]+\/[^/]+)$/.exec(path))) return state.repos[m[1]!];
  return undefined;
}

const upstream = useFakeUpstream((req, res) => {
  const url = new URL(req.url!, 'http://x');
  requests.push(`${req.method} ${url.pathname}${url.search}`);
  const rl = { 'x-ratelimit-remaining': String(state.rateLimitRemaining), 'x-ratelimit-reset': String(Date.parse('2030-01-01T01:00:00Z') / 1000) };
  const body = route(url.pathname, url.searchParams);
  if (body === undefined) {
    res.writeHead(404, { 'content-type': 'application/json', ...rl }).end(JSON.stringify({ message: 'Not Found' }));
    return;
  }
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(text).digest('hex')}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, ...rl }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', etag, ...rl }).end(text);
});

beforeEach(() => {
  requests.length = 0;
  clockMs = START_MS;
  state = {
    orgRepos: { 'octo-org': [repo('octo-org/api'), repo('octo-org/web')] },
    repos: { 'solo/tool': repo('solo/tool'), 'octo-org/api': repo('octo-org/api') },
    runs: {
      'octo-org/api': [
        run('octo-org/api', 103, 'in_progress', null, '2024-01-03T00:00:00Z'),
        run('octo-org/api', 102, 'completed', 'failure', '2024-01-02T00:00:00Z', 'dev'),
        run('octo-org/api', 101, 'completed', 'success', '2024-01-01T00:00:00Z'),
      ],
      'octo-org/web': [run('octo-org/web', 201, 'completed', 'neutral', '2024-01-02T12:00:00Z')],
      'solo/tool': [run('solo/tool', 301, 'queued', null, '2024-01-04T00:00:00Z')],
    },
    jobs: {
      '103': [job('octo-org/api', 1031, 103, 'in_progress', 7), job('octo-org/api', 1032, 103, 'queued', 999)],
      '102': [job('octo-org/api', 1021, 102, 'completed', 7)],
      '101': [job('octo-org/api', 1011, 101, 'completed', 8)],
      '201': [job('octo-org/web', 2011, 201, 'completed', 9)],
      '301': [job('solo/tool', 3011, 301, 'queued', null)],
    },
    orgRunners: { 'octo-org': [runner(7, true), runner(8, false), runner(9, false)] },
    repoRunners: { 'solo/tool': [runner(50, false)] },
    rateLimitRemaining: 4000,
  };
});

function makeAdapter(overrides: Json = {}, env: Record<string, string> = { GH_TOKEN: 'ghp_token', GH_HOOK: 'hook-secret' }): GithubAdapter {
  const config = githubAdapter.configSchema.parse({
    url: upstream.url,
    token: { env: 'GH_TOKEN' },
    webhookSecret: { env: 'GH_HOOK' },
    repositories: ['solo/tool', 'Octo-Org/API'],
    organizations: ['octo-org'],
    runners: { repositories: ['solo/tool'] },
    ...overrides,
  });
  const noop = () => {};
  const log = { warn: noop, debug: noop, info: noop, error: noop, child: () => log } as unknown as AdapterContext['log'];
  const ctx: AdapterContext = {
    name: 'gh',
    log,
    health: { success: noop, failure: noop, rateLimit: noop },
    now: () => new Date(clockMs),
    secret: (ref: SecretRef | undefined) => (!ref ? undefined : 'value' in ref ? ref.value : env[ref.env]),
  };
  return githubAdapter.create(config, ctx) as GithubAdapter;
}

describe('github adapter', () => {
  it('describes itself', () => {
    const a = makeAdapter();
    expect(a).toMatchObject({ name: 'gh', provider: 'github', url: upstream.url, capabilities: { webhooks: true, polling: true, runners: true, steps: true } });
    expect(a.webhook).toBeDefined();
    const b = makeAdapter({ webhookSecret: undefined });
    expect(b.capabilities.webhooks).toBe(false);
    expect(b.webhook).toBeUndefined();
  });

  it('fails start-up on an unset secret, naming the variable but no value', () => {
    expect(() => makeAdapter({}, { GH_HOOK: 'x' })).toThrow(/GitHub token is not set \(environment variable GH_TOKEN\)/);
  });

  it('lists projects: configured repos plus org repos, deduplicated case-insensitively', async () => {
    const projects = await makeAdapter().listProjects();
    expect(projects.map((p) => p.nativeId)).toEqual(['octo-org/api', 'octo-org/web', 'solo/tool']);
    // octo-org/api came with the org listing: no extra GET for it.
    expect(requests.filter((r) => r.startsWith('GET /repos/octo-org/api?') || r === 'GET /repos/octo-org/api')).toEqual([]);
  });

  it('batch.runners: one listing per runner source, however many ids', async () => {
    const a = makeAdapter();
    const ids = ['7', '8', '9', '50', '12345', 'not-an-id', ...Array.from({ length: 14 }, () => '7')];
    const result = await a.batch.runners(ids);
    expect(result).toHaveLength(ids.length);
    expect(result.slice(0, 6).map((r) => (r instanceof Error || r === null ? r : `${r.nativeId}:${r.state}:${r.scope}`))).toEqual([
      '7:BUSY:ORGANIZATION', '8:IDLE:ORGANIZATION', '9:IDLE:ORGANIZATION', '50:IDLE:REPOSITORY', null, null,
    ]);
    expect(requests).toEqual(['GET /orgs/octo-org/actions/runners?per_page=100&page=1', 'GET /repos/solo/tool/actions/runners?per_page=100&page=1']);
  });

  it('batch.runners: ids no listing holds cost one listing per TTL; a runner registered later is found after it', async () => {
    const a = makeAdapter();
    const listings = () => requests.filter((r) => r.includes('/actions/runners')).length;
    expect(await a.batch.runners(['12345'])).toEqual([null]);
    expect(listings()).toBe(2); // org + repo source, once
    for (let i = 0; i < 10; i++) {
      clockMs += 5_000; // 50 s in all: within the 60 s TTL
      expect(await a.batch.runners(['12345', '777'])).toEqual([null, null]);
    }
    expect(listings()).toBe(2);
    // A listed id still lists (its state must be current), and that listing renews the window.
    expect((await a.batch.runners(['8', '12345'])).map((r) => (r && !(r instanceof Error) ? r.nativeId : r))).toEqual(['8', null]);
    expect(listings()).toBe(4);
    state.orgRunners['octo-org']!.push(runner(12345, true)); // registered now
    clockMs += 59_000;
    expect(await a.batch.runners(['12345'])).toEqual([null]);
    expect(listings()).toBe(4);
    clockMs += 1_000; // the TTL has passed: list again, and find it
    expect(await a.batch.runners(['12345'])).toMatchObject([{ nativeId: '12345', state: 'BUSY' }]);
    expect(listings()).toBe(6);
  });

  it('batch.runners: a failed source caches no miss', async () => {
    state.repoRunners = {};
    const a = makeAdapter();
    expect((await a.batch.runners(['12345']))[0]).toBeInstanceOf(Error);
    expect((await a.batch.runners(['12345']))[0]).toBeInstanceOf(Error);
    expect(requests.filter((r) => r.includes('/actions/runners'))).toHaveLength(4);
  });

  it('a GitHub-hosted runner: built from its job, loaded by id through the job, never from a listing', async () => {
    const hosted = { ...job('octo-org/api', 1033, 103, 'in_progress', 1000018028), runner_name: 'GitHub Actions 1000018028', runner_group_id: 0, runner_group_name: 'GitHub Actions', labels: ['ubuntu-latest'] };
    state.jobs['103']!.push(hosted);
    const a = makeAdapter();
    const [jobs] = await a.batch.jobsOfPipelines(['octo-org/api/runs/103']);
    const j = (jobs as JobModel[]).find((x) => x.nativeId === 'octo-org/api/jobs/1033')!;
    expect(j.runnerNativeId).toBe('octo-org/api/jobs/1033/runner');
    expect(a.runnerFromJob?.(j)).toMatchObject({ nativeId: j.runnerNativeId, name: 'GitHub Actions 1000018028', state: 'BUSY', hosted: true });
    expect(a.runnerFromJob?.((jobs as JobModel[]).find((x) => x.nativeId === 'octo-org/api/jobs/1031')!)).toBeNull();
    requests.length = 0;
    const [byId, outside] = await a.batch.runners([j.runnerNativeId!, 'stranger/repo/jobs/1/runner']);
    expect(byId).toEqual(a.runnerFromJob?.(j));
    expect(outside).toBeNull();
    expect(a.owns(byId as EntityModel)).toBe(true);
    expect(requests).toEqual(['GET /repos/octo-org/api/actions/jobs/1033']);
  });

  it('batch.runners: an id missing while a source failed gets the error', async () => {
    state.repoRunners = {};
    state.orgRunners = {};
    const result = await makeAdapter().batch.runners(['7']);
    expect(result[0]).toBeInstanceOf(Error);
  });

  it('batch.pipelines / jobs / projects: per-slot results, duplicates fetched once', async () => {
    const a = makeAdapter();
    const result = await a.batch.pipelines(['octo-org/api/runs/103', 'octo-org/api/runs/103', 'octo-org/api/runs/999', 'garbage']);
    expect((result[0] as PipelineModel).status).toBe('RUNNING');
    expect(result[1]).toEqual(result[0]);
    expect(result.slice(2)).toEqual([null, null]);
    expect(requests).toHaveLength(2);

    const jobs = await a.batch.jobs(['octo-org/api/jobs/1032', 'octo-org/api/jobs/1']);
    expect(jobs[0]).toMatchObject({ status: 'QUEUED', runnerNativeId: null, startedAt: null, pipelineNativeId: 'octo-org/api/runs/103' });
    expect(jobs[1]).toBeNull();

    const projects = await a.batch.projects(['solo/tool', 'nobody/nothing']);
    expect(projects[0]).toMatchObject({ fullName: 'solo/tool' });
    expect(projects[1]).toBeNull();
  });

  it('batch.jobsOfPipelines', async () => {
    const result = await makeAdapter().batch.jobsOfPipelines(['octo-org/api/runs/103', 'octo-org/api/runs/999']);
    expect((result[0] as JobModel[]).map((j) => `${j.nativeId}:${j.status}:${j.runnerNativeId}`)).toEqual([
      'octo-org/api/jobs/1031:RUNNING:7', 'octo-org/api/jobs/1032:QUEUED:null',
    ]);
    expect(result[1]).toEqual([]);
  });

  it('listPipelines: newest first across projects, cut at limit', async () => {
    const list = await makeAdapter().listPipelines({ limit: 3 });
    expect(list.map((p) => p.nativeId)).toEqual(['solo/tool/runs/301', 'octo-org/api/runs/103', 'octo-org/web/runs/201']);
    expect(requests.filter((r) => r.includes('/actions/runs'))).toHaveLength(3);
    expect(requests.every((r) => !r.includes('/actions/runs') || r.includes('per_page=3'))).toBe(true);
  });

  it('listPipelines: one GitHub status is filtered upstream, several locally, impossible ones cost nothing', async () => {
    const a = makeAdapter();
    const running = await a.listPipelines({ limit: 10, status: ['RUNNING'] });
    expect(running.map((p) => p.nativeId)).toEqual(['octo-org/api/runs/103']);
    expect(requests.filter((r) => r.includes('/actions/runs')).every((r) => r.includes('status=in_progress'))).toBe(true);

    requests.length = 0;
    const success = await a.listPipelines({ limit: 10, status: ['SUCCESS'] }); // success + neutral
    expect(success.map((p) => p.nativeId)).toEqual(['octo-org/web/runs/201', 'octo-org/api/runs/101']);
    expect(requests.filter((r) => r.includes('status='))).toEqual([]);

    const branch = await a.listPipelines({ limit: 10, branch: 'dev', projectNativeIds: ['octo-org/api'] });
    expect(branch.map((p) => p.nativeId)).toEqual(['octo-org/api/runs/102']);

    const created = await a.listPipelines({ limit: 10, createdAfter: new Date('2024-01-02T06:00:00Z'), createdBefore: new Date('2024-01-03T12:00:00Z') });
    expect(created.map((p) => p.nativeId)).toEqual(['octo-org/api/runs/103', 'octo-org/web/runs/201']);

    requests.length = 0;
    expect(await a.listPipelines({ limit: 10, status: ['UNSTABLE', 'CANCELING'] })).toEqual([]);
    expect(await a.listPipelines({ limit: 10, projectNativeIds: ['stranger/repo'] })).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('nested query bound: pipelines(first:20){ jobs { runner } } over N repos = orgs + N + P + S calls', async () => {
    const a = makeAdapter();
    const pipelines = await a.listPipelines({ limit: 20 });
    const jobLists = await a.batch.jobsOfPipelines(pipelines.map((p) => p.nativeId));
    const runnerIds = [...new Set(jobLists.flatMap((l) => (l instanceof Error ? [] : l.map((j) => j.runnerNativeId)).filter((x): x is string => x !== null)))];
    await a.batch.runners(runnerIds);
    const N = 3; // projects
    const P = pipelines.length; // ≤ 20
    const S = 2; // runner sources
    const orgs = 1; // org repo listing (cached for 60 s)
    expect(requests).toHaveLength(orgs + N + P + S);
  });

  it('poll: snapshots first, then 304s and nothing new, then only what changed', async () => {
    const a = makeAdapter();
    const first = await a.poll!();
    const kinds = (es: readonly EntityModel[]) => es.map((e) => `${e.type}:${e.nativeId}`).sort();
    expect(kinds(first.entities)).toEqual(
      [
        'Pipeline:octo-org/api/runs/101', 'Pipeline:octo-org/api/runs/102', 'Pipeline:octo-org/api/runs/103',
        'Pipeline:octo-org/web/runs/201', 'Pipeline:solo/tool/runs/301',
        'Job:octo-org/api/jobs/1011', 'Job:octo-org/api/jobs/1021', 'Job:octo-org/api/jobs/1031', 'Job:octo-org/api/jobs/1032',
        'Job:octo-org/web/jobs/2011', 'Job:solo/tool/jobs/3011',
        'Runner:7', 'Runner:8', 'Runner:9', 'Runner:50',
      ].sort(),
    );
    expect(first.nextPollAfterMs).toBeUndefined();

    requests.length = 0;
    const before = { ...a.stats };
    const second = await a.poll!();
    // Runners are always reported (the core drops unchanged ones); runs and jobs are not.
    expect(second.entities.filter((e) => e.type !== 'Runner')).toEqual([]);
    // 3 run lists + jobs of the 2 active runs + 2 runner lists, all 304 (org repo list still cached).
    expect(requests).toHaveLength(7);
    expect(a.stats.notModified - before.notModified).toBe(7);

    // A job moves on while the run's updated_at stays: only its jobs are emitted.
    state.jobs['103']![1] = job('octo-org/api', 1032, 103, 'in_progress', 8);
    state.orgRunners['octo-org']![1] = runner(8, true);
    const third = await a.poll!();
    expect(kinds(third.entities.filter((e) => e.type !== 'Runner'))).toEqual(['Job:octo-org/api/jobs/1031', 'Job:octo-org/api/jobs/1032']);
    expect(third.entities.find((e) => e.type === 'Runner' && e.nativeId === '8')).toMatchObject({ state: 'BUSY' });
  });

  it('poll: waits for the rate-limit reset instead of calling GitHub', async () => {
    const a = makeAdapter();
    state.rateLimitRemaining = 0;
    await a.listProjects();
    requests.length = 0;
    const r = await a.poll!();
    expect(r).toEqual({ entities: [], nextPollAfterMs: 3_600_000 });
    expect(requests).toEqual([]);
  });

  it('webhook normalize filters to configured repositories', () => {
    const a = makeAdapter({ organizations: [], runners: undefined });
    const payload = (full: string) => ({ repository: { full_name: full }, workflow_run: run(full, 5, 'queued', null, '2024-01-01T00:00:00Z') });
    const req = { headers: { 'x-github-event': 'workflow_run' }, rawBody: Buffer.from('') };
    expect(a.webhook!.normalize(req, payload('solo/tool'))).toHaveLength(1);
    expect(a.webhook!.normalize(req, payload('octo-org/web'))).toEqual([]);
  });
});
