/**
 * GitHub re-runs reach the history with every attempt (issue 13, flaky jobs): a re-run is a
 * new attempt of the same run, and the jobs of earlier attempts are listed only with
 * `filter=all`. The backfill reads `batch.jobAttemptsOfPipelines`, so a job that failed in
 * attempt 1 and passed in attempt 2 on the same commit is seen as the flake it is, at the
 * same one listing per run as the latest attempt costs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import githubAdapterFactory from '../../adapters/github/index.ts';
import { formatPipelineId } from '../../adapters/github/native-ids.ts';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import type { BackendAdapter } from '../../src/adapter-contract.ts';
import type { JobModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');

describe('GitHub re-run attempts', () => {
  let sim: GithubSimulator;
  let adapter: BackendAdapter;
  beforeAll(async () => {
    sim = createGithubSimulator({ seed: 11, pastDays: 7, history: 0, now: () => new Date(NOW) });
    await sim.start();
    const config = githubAdapterFactory.configSchema.parse({ url: sim.url, repositories: ['octo-org/api', 'octo-org/web', 'octo-org/infra'] });
    adapter = githubAdapterFactory.create(config, contractContext('gh', () => new Date(NOW)));
  }, 30_000);
  afterAll(async () => {
    await adapter?.dispose();
    await sim?.stop();
  });

  it('lists every attempt of a re-run run: the failed job of attempt 1 and its pass in attempt 2 (one run: one commit); the latest equals jobsOfPipelines; one listing each', async () => {
    const reruns = sim.world.runs().filter((r) => r.runAttempt === 2 && sim.world.jobs(r.id).some((j) => j.runAttempt === 1 && j.conclusion === 'failure'));
    expect(reruns.length).toBeGreaterThan(0);
    const ids = reruns.map((r) => formatPipelineId(`octo-org/${r.repo}`, r.id));

    const before = sim.requests.length;
    const attempts = await adapter.batch.jobAttemptsOfPipelines!(ids);
    const attemptRequests = sim.requests.slice(before).map((r) => r.path);
    const latest = await adapter.batch.jobsOfPipelines(ids);
    const latestRequests = sim.requests.slice(before + attemptRequests.length).map((r) => r.path);
    expect(attemptRequests).toHaveLength(ids.length);
    expect(attemptRequests.every((p) => p.includes('filter=all'))).toBe(true);
    expect(latestRequests).toHaveLength(ids.length);

    for (const [i, id] of ids.entries()) {
      const all = attempts[i] as JobModel[];
      const shown = latest[i] as JobModel[];
      expect(all.every((j) => j.pipelineNativeId === id)).toBe(true);
      const failed = all.filter((j) => j.attempt === 1 && j.status === 'FAILURE');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        const again = all.find((j) => j.attempt === 2 && j.name === f.name);
        expect(again?.status).toBe('SUCCESS');
      }
      expect(all.filter((j) => j.attempt === 2).map((j) => j.nativeId).sort()).toEqual(shown.map((j) => j.nativeId).sort());
      expect(shown.every((j) => j.attempt === 2)).toBe(true);
    }
  });
});
