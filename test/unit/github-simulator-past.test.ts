/**
 * The GitHub simulator's seeded past (pastDays), read the way a backfill
 * reads it: over real HTTP, paging back with `created=>=DATE`, `per_page`
 * and Link headers; re-runs as run attempts (`filter=all`, `/attempts/N`),
 * validated against GitHub's OpenAPI description; queue waits and runner
 * failures in the native job fields.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { default as addFormatsCjs } from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';

const require = createRequire(import.meta.url);
const addFormats = addFormatsCjs.default;
const NOW = Date.parse('2026-12-04T21:30:00Z');
const DAY = 86_400_000;

interface Run { id: number; created_at: string; run_attempt: number; conclusion: string | null; head_sha: string; head_branch: string; previous_attempt_url: string | null }
interface Job { id: number; name: string; run_attempt: number; conclusion: string | null; created_at: string; started_at: string; completed_at: string | null; labels: string[]; runner_name: string | null; head_sha: string }

const SCHEMAS = {
  attempt: '/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}',
  attemptJobs: '/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs',
  jobs: '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
  runs: '/repos/{owner}/{repo}/actions/runs',
} as const;
let validators: Record<keyof typeof SCHEMAS, ValidateFunction>;

function expectValid(validate: ValidateFunction, data: unknown, what: string): void {
  expect(validate(data), `${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
}

/** Follows rel="next" from `path`, as Octokit's paginate does. */
async function pageAll(sim: GithubSimulator, path: string, key: 'workflow_runs' | 'jobs'): Promise<{ items: unknown[]; pages: number; total: number }> {
  const items: unknown[] = [];
  let url: string | undefined = sim.url + path;
  let pages = 0;
  let total = 0;
  while (url) {
    const res: Response = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { total_count: number };
    if (key === 'workflow_runs') expectValid(validators.runs, body, url);
    total = body.total_count;
    items.push(...(body[key] as unknown[]));
    pages++;
    url = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return { items, pages, total };
}

describe('github simulator past', () => {
  let sim: GithubSimulator;

  beforeAll(async () => {
    const spec = JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.deref.json'), 'utf8')) as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: object }> }> } }>;
    };
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
    const compile = (p: string) => ajv.compile(spec.paths[p]!.get.responses['200']!.content['application/json']!.schema);
    validators = { attempt: compile(SCHEMAS.attempt), attemptJobs: compile(SCHEMAS.attemptJobs), jobs: compile(SCHEMAS.jobs), runs: compile(SCHEMAS.runs) };
    sim = createGithubSimulator({ seed: 11, pastDays: 7, history: 0, now: () => new Date(NOW) });
    await sim.start();
  }, 30_000);

  afterAll(() => sim.stop());

  it('is the same past for the same seed', () => {
    const again = createGithubSimulator({ seed: 11, pastDays: 7, history: 0, now: () => new Date(NOW) });
    expect(again.world.runs().map((r) => [r.id, r.sha, r.createdAt, r.conclusion, r.runAttempt])).toEqual(
      sim.world.runs().map((r) => [r.id, r.sha, r.createdAt, r.conclusion, r.runAttempt]),
    );
    expect(again.world.jobs().map((j) => [j.id, j.startedAt, j.runnerName])).toEqual(sim.world.jobs().map((j) => [j.id, j.startedAt, j.runnerName]));
  });

  it('leaves the default world (no pastDays) as it was: 5 runs per repository', () => {
    const plain = createGithubSimulator({ seed: 11, now: () => new Date(NOW) });
    expect(plain.world.runs().length).toBe(15);
    expect(plain.world.runs().every((r) => r.runAttempt === 1)).toBe(true);
  });

  it('pages back through several days with created=>=DATE, per_page and Link headers', async () => {
    const since = new Date(NOW - 3 * DAY).toISOString().slice(0, 10);
    const { items, pages, total } = await pageAll(sim, `/repos/octo-org/api/actions/runs?per_page=20&created=${encodeURIComponent(`>=${since}`)}`, 'workflow_runs');
    const runs = items as Run[];
    expect(pages).toBeGreaterThan(1);
    expect(runs.length).toBe(total);
    expect(runs.every((r) => r.created_at >= `${since}T00:00:00Z`)).toBe(true);
    const created = runs.map((r) => r.created_at);
    expect(created).toEqual([...created].sort().reverse());
    // Every api run of the window is listed, none older.
    const expected = sim.world.runs('api').filter((r) => r.createdAt >= `${since}T00:00:00Z`);
    expect(runs.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    const older = await pageAll(sim, `/repos/octo-org/api/actions/runs?per_page=100&created=${encodeURIComponent(`<${since}`)}`, 'workflow_runs');
    expect(older.total + total).toBe(sim.world.runs('api').length);
    const oldest = Math.min(...(older.items as Run[]).map((r) => Date.parse(r.created_at)));
    expect(NOW - oldest).toBeGreaterThan(6 * DAY);
  });

  it('serves re-runs as attempts: the failed job of attempt 1 passes in attempt 2 on the same commit', async () => {
    const rerun = sim.world.runs().find((r) => r.runAttempt === 2 && sim.world.jobs(r.id).some((j) => j.runAttempt === 1 && j.conclusion === 'failure' && j.runnerName?.startsWith('linux-x64')));
    expect(rerun).toBeDefined();
    const base = `${sim.url}/repos/octo-org/${rerun!.repo}/actions/runs/${rerun!.id}`;
    const run = (await (await fetch(base)).json()) as Run;
    expect(run.run_attempt).toBe(2);
    expect(run.previous_attempt_url).toBe(`${base}/attempts/1`);

    const latest = (await (await fetch(`${base}/jobs`)).json()) as { jobs: Job[] };
    expectValid(validators.jobs, latest, 'latest jobs');
    expect(latest.jobs.every((j) => j.run_attempt === 2)).toBe(true);
    const all = (await (await fetch(`${base}/jobs?filter=all`)).json()) as { jobs: Job[] };
    const failed = all.jobs.filter((j) => j.run_attempt === 1 && j.conclusion === 'failure');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      const again = all.jobs.find((j) => j.run_attempt === 2 && j.name === f.name);
      expect(again?.conclusion).toBe('success');
      expect(again?.head_sha).toBe(f.head_sha);
      expect(Date.parse(again!.started_at)).toBeGreaterThan(Date.parse(f.completed_at!));
    }

    const first = (await (await fetch(`${base}/attempts/1`)).json()) as Run;
    expectValid(validators.attempt, first, 'attempt 1');
    expect(first.run_attempt).toBe(1);
    expect(first.conclusion).toBe('failure');
    expect(first.previous_attempt_url).toBeNull();
    const firstJobs = (await (await fetch(`${base}/attempts/1/jobs`)).json()) as { jobs: Job[] };
    expectValid(validators.attemptJobs, firstJobs, 'attempt 1 jobs');
    expect(firstJobs.jobs.map((j) => j.id)).toEqual(all.jobs.filter((j) => j.run_attempt === 1).map((j) => j.id));
    expect((await fetch(`${base}/attempts/3`)).status).toBe(404);
  });

  it('gives ids that grow with time: a re-run\'s jobs come after the jobs of runs created before it', () => {
    const runs = sim.world.runs();
    const reruns = runs.filter((r) => r.runAttempt > 1);
    expect(reruns.length).toBeGreaterThan(0);
    for (const r of reruns) {
      const newest = Math.min(...sim.world.jobs(r.id).filter((j) => j.runAttempt === r.runAttempt && j.completedAt !== null).map((j) => j.id));
      const before = runs.filter((x) => x.createdAt < r.runStartedAt).flatMap((x) => sim.world.jobs(x.id).filter((j) => (j.runAttempt ?? 1) === 1));
      expect(newest).toBeGreaterThan(Math.max(...before.map((j) => j.id)));
    }
  });

  it('shows the starved arm64 pool and the incident runner in the native job fields', async () => {
    const jobs: Job[] = [];
    for (const repo of ['api', 'web', 'infra']) {
      const { items } = await pageAll(sim, `/repos/octo-org/${repo}/actions/runs?per_page=100`, 'workflow_runs');
      for (const r of items as Run[]) jobs.push(...((await (await fetch(`${sim.url}/repos/octo-org/${repo}/actions/runs/${r.id}/jobs?filter=all&per_page=100`)).json()) as { jobs: Job[] }).jobs);
    }
    const ran = jobs.filter((j) => j.conclusion !== 'skipped');
    const wait = (j: Job) => Date.parse(j.started_at) - Date.parse(j.created_at);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const arm = ran.filter((j) => j.labels.includes('ARM64')).map(wait);
    const x64 = ran.filter((j) => j.labels.includes('X64')).map(wait);
    expect(arm.length).toBeGreaterThan(20);
    expect(median(arm)).toBeGreaterThan(5 * median(x64));

    // Lost runners and timeouts all happened on one runner.
    const broken = ran.filter((j) => j.conclusion === 'timed_out' || (j.conclusion === 'failure' && j.run_attempt === 1 && sim.world.jobs().find((x) => x.id === j.id)?.steps.at(-1)?.conclusion === 'skipped'));
    expect(broken.length).toBeGreaterThanOrEqual(3);
    expect(new Set(broken.map((j) => j.runner_name)).size).toBe(1);
  });
});
