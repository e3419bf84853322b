/**
 * The GitLab simulator's seeded past (pastDays), read the way a backfill
 * reads it: over real HTTP, paging back with `updated_after`/`updated_before`,
 * `order_by`, `per_page` and the pagination headers; retried jobs with
 * `include_retried=true`; failure reasons and queue waits in the native fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestAttempts } from '../../adapters/gitlab/loaders.ts';
import { toJob } from '../../adapters/gitlab/normalize.ts';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import type { JobModel } from '../../src/model.ts';
import { runnerClusters } from '../helpers/failure-clusters.ts';

const NOW = Date.parse('2026-12-04T21:30:00Z');
const DAY = 86_400_000;

interface Pipeline { id: number; updated_at: string; created_at: string; ref: string; status: string; sha: string }
interface Job {
  id: number; name: string; status: string; failure_reason?: string; created_at: string; started_at: string | null;
  queued_duration: number | null; tag_list: string[]; runner: { description: string } | null; pipeline: { id: number; sha: string };
}

async function pageAll<T>(url: string): Promise<{ items: T[]; pages: number; total: number }> {
  const items: T[] = [];
  let next: string | undefined = url;
  let pages = 0;
  let total = 0;
  while (next) {
    const res: Response = await fetch(next);
    expect(res.status).toBe(200);
    total = Number(res.headers.get('x-total'));
    items.push(...((await res.json()) as T[]));
    pages++;
    next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return { items, pages, total };
}

describe('gitlab simulator past', () => {
  let sim: GitlabSimulator;
  let projectId: number;

  beforeAll(async () => {
    sim = createGitlabSimulator({ seed: 5, pastDays: 7, history: 0, now: () => new Date(NOW) });
    await sim.start();
    projectId = (await (await fetch(`${sim.url}/projects/${encodeURIComponent('platform/backend')}`)).json() as { id: number }).id;
  });

  afterAll(() => sim.stop());

  it('is the same past for the same seed, and no past without pastDays', () => {
    const again = createGitlabSimulator({ seed: 5, pastDays: 7, history: 0, now: () => new Date(NOW) });
    const key = (s: GitlabSimulator) => s.world.jobs().map((j) => [j.id, j.name, j.status, j.startedAt, j.runnerId, j.retried]);
    expect(key(again)).toEqual(key(sim));
    const plain = createGitlabSimulator({ seed: 5, now: () => new Date(NOW) });
    expect(plain.world.pipelines().filter((p) => p.parent === null).length).toBe(15);
  });

  it('pages back with updated_after / updated_before, order_by=updated_at and the pagination headers', async () => {
    const after = new Date(NOW - 2 * DAY).toISOString();
    const q = `updated_after=${encodeURIComponent(after)}&order_by=updated_at&sort=desc&per_page=20`;
    const recent = await pageAll<Pipeline>(`${sim.url}/projects/${projectId}/pipelines?${q}`);
    expect(recent.pages).toBeGreaterThan(1);
    expect(recent.items.length).toBe(recent.total);
    expect(recent.items.every((p) => p.updated_at >= after)).toBe(true);
    const updated = recent.items.map((p) => p.updated_at);
    expect(updated).toEqual([...updated].sort().reverse());
    const older = await pageAll<Pipeline>(`${sim.url}/projects/${projectId}/pipelines?updated_before=${encodeURIComponent(after)}&per_page=100`);
    expect(older.items.every((p) => p.updated_at <= after)).toBe(true);
    const all = sim.world.pipelines('backend').filter((p) => p.parent === null);
    expect(recent.total + older.total).toBe(all.length);
    expect(NOW - Math.min(...older.items.map((p) => Date.parse(p.created_at)))).toBeGreaterThan(6 * DAY);
    // Main is red for a while and green again.
    const main = [...recent.items, ...older.items].filter((p) => p.ref === 'main').sort((a, b) => a.id - b.id).map((p) => p.status);
    expect(main.join(',')).toMatch(/failed,failed,(failed,)*success/);
  });

  it('serves a flaky job as a retried failure and a passing clone on the same commit', async () => {
    const pipelines = await pageAll<Pipeline>(`${sim.url}/projects/${projectId}/pipelines?per_page=100`);
    let found = 0;
    for (const p of pipelines.items) {
      const latest = (await (await fetch(`${sim.url}/projects/${projectId}/pipelines/${p.id}/jobs`)).json()) as Job[];
      const all = (await (await fetch(`${sim.url}/projects/${projectId}/pipelines/${p.id}/jobs?include_retried=true`)).json()) as Job[];
      const retried = all.filter((j) => !latest.some((l) => l.id === j.id));
      for (const r of retried.filter((j) => j.failure_reason === 'script_failure')) {
        const clone = latest.find((j) => j.name === r.name);
        expect(clone!.id).toBeGreaterThan(r.id);
        expect(clone!.pipeline.sha).toBe(r.pipeline.sha);
        expect(Date.parse(clone!.created_at)).toBeGreaterThan(Date.parse(r.created_at));
        // Ids grow with time: the clone comes after every job of the pipelines created before it.
        const earlier = pipelines.items.filter((x) => x.created_at < clone!.created_at).map((x) => x.id);
        const earlierJobs = sim.world.jobs().filter((j) => earlier.includes(j.pipelineId) && j.retriesCount === 0);
        expect(clone!.id).toBeGreaterThan(Math.max(...earlierJobs.map((j) => j.id)));
        if (clone!.status === 'success') found++;
      }
    }
    expect(found).toBeGreaterThanOrEqual(1);
  });

  it('clusters infrastructure failures on one runner, concentrated once normalized, and makes the arm64 jobs wait', async () => {
    const all: unknown[] = [];
    for (const p of sim.world.projects()) all.push(...(await pageAll<unknown>(`${sim.url}/projects/${p.id}/jobs?per_page=100&include_retried=true`)).items);
    const infra = (all as Job[]).filter((j) => j.failure_reason === 'runner_system_failure' || j.failure_reason === 'stuck_or_timeout_failure');
    expect(infra.length).toBeGreaterThanOrEqual(3);
    expect(new Set(infra.map((j) => j.failure_reason))).toEqual(new Set(['runner_system_failure', 'stuck_or_timeout_failure']));
    expect(new Set(infra.map((j) => j.runner?.description)).size).toBe(1);
    // failureCauses.runners over the normalized jobs as the adapter records them (each
    // pipeline's latest attempts): the incident's runner, and only it, stands out.
    const byPipeline = new Map<string, JobModel[]>();
    for (const j of all.map((x) => toJob('gl', x))) byPipeline.set(j.pipelineNativeId, [...(byPipeline.get(j.pipelineNativeId) ?? []), j]);
    const { clusters } = runnerClusters('gl', [...byPipeline.values()].flatMap(latestAttempts));
    expect(clusters.filter((c) => c.concentrated).map((c) => c.name)).toEqual([infra[0]!.runner!.description]);

    const jobs = await pageAll<Job>(`${sim.url}/projects/${projectId}/jobs?per_page=100&scope[]=success&scope[]=failed`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const waits = (arm: boolean) => jobs.items.filter((j) => j.tag_list.includes('arm64') === arm).map((j) => j.queued_duration ?? 0);
    expect(waits(true).length).toBeGreaterThan(20);
    expect(median(waits(true))).toBeGreaterThan(5 * median(waits(false)));
    // queued_duration is what started_at − queued_at says (GitLab exposes queued_at only through it).
    for (const j of jobs.items) expect(j.queued_duration).toBeGreaterThanOrEqual(0);
  });
});
