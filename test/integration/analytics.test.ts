import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { constructedHistory } from '../contract/analytics-history.ts';
import type { GraphqlResponse } from '../helpers/gateway-stack.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const WINDOW = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-08T00:00:00.000Z' };

/** Every analytics field, asking for the project names (and runners) each one reveals. */
const EVERY_FIELD = `query ($window: AnalyticsWindowInput) {
  pipelineStats(window: $window, groupBy: [PROJECT]) { groups { key { project } count } }
  jobStats(window: $window, groupBy: [PROJECT, RUNNER]) { groups { key { project runner } count } }
  timeToGreen(window: $window) { series { project branch periods { breaking { nativeId } } } }
  failureCauses(window: $window) { failedJobs topJobs { project jobName } runners { name } labels { name jobs } }
  flakyJobs(window: $window) { jobs { project jobName flakeRate } }
}`;

interface EveryField {
  pipelineStats: { groups: { key: { project: string }; count: number }[] };
  jobStats: { groups: { key: { project: string; runner: string | null }; count: number }[] };
  timeToGreen: { series: { project: string; branch: string }[] };
  failureCauses: { failedJobs: number; topJobs: { project: string }[]; runners: { name: string }[]; labels: { name: string; jobs: number }[] };
  flakyJobs: { jobs: { project: string; jobName: string }[] };
}

describe('analytics through the gateway', () => {
  let stack: Stack;
  let allKey: string;
  let webKey: string;

  async function ask<T>(key: string, query: string, variables: Record<string, unknown> = { window: WINDOW }): Promise<GraphqlResponse<T>> {
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphqlResponse<T>;
  }

  beforeAll(async () => {
    const all = await createApiKey('all');
    const web = await createApiKey('web');
    allKey = all.key;
    webKey = web.key;
    stack = await startStack({
      config: {
        history: { rollupIntervalSeconds: 1 },
        auth: {
          mode: 'required',
          apiKeys: [
            { id: 'all', hash: all.hash, scopes: [{ backends: ['*'] }] },
            { id: 'web', hash: web.hash, scopes: [{ backends: ['gh'], projects: ['acme/web'] }] },
          ],
        },
      },
    });
    await stack.gateway.history.ready;
    const store = stack.gateway.history.store();
    for (const batch of constructedHistory()) await store.record(batch);
  }, 60_000);
  afterAll(() => stack?.close());

  it('an unrestricted key sees every project and runner', async () => {
    const { data, errors } = await ask<EveryField>(allKey, EVERY_FIELD);
    expect(errors).toBeUndefined();
    expect(data!.pipelineStats.groups.map((g) => [g.key.project, g.count])).toEqual([['acme/api', 11], ['acme/web', 15], ['team/app', 2]]);
    expect(data!.jobStats.groups.map((g) => g.key.runner)).toContain('r-bad');
    expect(new Set(data!.timeToGreen.series.map((s) => s.project))).toEqual(new Set(['acme/api', 'acme/web', 'team/app']));
    expect(data!.failureCauses.failedJobs).toBe(9);
    expect(data!.failureCauses.runners.map((r) => r.name)).toContain('r-bad');
    expect(data!.flakyJobs.jobs.map((j) => j.jobName)).toEqual(['build', 'unit', 'e2e']);
  });

  it('a key restricted to one project counts that project alone in every field, and sees no runner', async () => {
    const { data, errors } = await ask<EveryField>(webKey, EVERY_FIELD);
    expect(errors).toBeUndefined();
    expect(data!.pipelineStats.groups.map((g) => [g.key.project, g.count])).toEqual([['acme/web', 15]]);
    expect(data!.jobStats.groups.map((g) => [g.key.project, g.key.runner, g.count])).toEqual([['acme/web', null, 11]]);
    expect(data!.timeToGreen.series.map((s) => [s.project, s.branch])).toEqual([['acme/web', 'dev'], ['acme/web', 'main']]);
    expect(data!.failureCauses.failedJobs).toBe(4);
    expect(data!.failureCauses.topJobs.map((j) => j.project)).toEqual(['acme/web', 'acme/web']);
    expect(data!.failureCauses.runners).toEqual([]);
    expect(data!.failureCauses.labels).toEqual([{ name: 'linux', jobs: 11 }]);
    expect(data!.flakyJobs.jobs.map((j) => [j.project, j.jobName])).toEqual([['acme/web', 'unit'], ['acme/web', 'e2e']]);
    // Naming a hidden project gives nothing away.
    const hidden = await ask<{ pipelineStats: { groups: { count: number }[] } }>(webKey,
      'query ($window: AnalyticsWindowInput) { pipelineStats(window: $window, filter: { projects: ["acme/api"] }) { groups { count } } }');
    expect(hidden.data!.pipelineStats.groups).toEqual([{ count: 0 }]);
  });

  it('the gateway rebuilds the days its writes marked in the background, and the figures stay the same', async () => {
    const before = await ask<EveryField>(allKey, EVERY_FIELD);
    const store = stack.gateway.history.store();
    // Nothing here calls refreshRollups(): only the gateway's background pass empties the marks.
    await waitFor(async () => (await store.query('SELECT 1 FROM rollup_dirty')).length === 0, 30_000, 'the marked days rebuilt');
    expect((await store.query('SELECT 1 FROM rollup_counts')).length).toBeGreaterThan(0);
    expect(await ask<EveryField>(allKey, EVERY_FIELD)).toEqual(before);
  });

  it('time to green follows a project\'s default branch once the gateway knows it', async () => {
    const query = 'query ($window: AnalyticsWindowInput) { timeToGreen(window: $window, filter: { projects: ["acme/web"] }) { series { branch } } }';
    const before = await ask<{ timeToGreen: { series: { branch: string }[] } }>(allKey, query);
    expect(before.data!.timeToGreen.series.map((s) => s.branch)).toEqual(['dev', 'main']);
    stack.gateway.services.state.apply({
      type: 'Project', backend: 'gh', nativeId: 'acme/web', revision: [1], name: 'web', fullName: 'acme/web', url: null, defaultBranch: 'main',
    }, Date.now());
    const after = await ask<{ timeToGreen: { series: { branch: string }[] } }>(allKey, query);
    expect(after.data!.timeToGreen.series.map((s) => s.branch)).toEqual(['main']);
  });

  it('the queries the README gives to paste into GraphiQL are answered without error', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Analytics'));
    const example = section.slice(section.indexOf('```graphql') + 10, section.indexOf('```', section.indexOf('```graphql') + 10));
    const res = await ask<Record<string, unknown>>(allKey, example, {});
    expect(res.errors).toBeUndefined();
    expect(Object.keys(res.data!)).toEqual(['pipelineStats', 'timeToGreen', 'flakyJobs', 'failureCauses']);
  });

  it('refuses a window, a top or a cardinality beyond the limits with ANALYTICS_LIMIT and a clear message', async () => {
    const tooLong = await ask(allKey, '{ pipelineStats(window: { lastDays: 401 }) { groups { count } } backends { name } }', {});
    expect(tooLong.errors![0]!.extensions!.code).toBe('ANALYTICS_LIMIT');
    expect(tooLong.errors![0]!.message).toMatch(/at most 400 days, received 401 days/);
    expect((tooLong.data as { backends: unknown[] }).backends).toHaveLength(1);
    const tooMany = await ask(allKey, '{ flakyJobs(top: 101) { jobs { jobName } } }', {});
    expect(tooMany.errors![0]!.extensions!.code).toBe('ANALYTICS_LIMIT');
    expect(tooMany.errors![0]!.message).toMatch(/top: expected 1 to 100, received 101/);
    const store = stack.gateway.history.store();
    await store.query(`INSERT INTO pipelines (backend, native_id, revision, project_native_id, status, attempt, branch, finished_at, recorded_at)
      SELECT 'gh', 'many-' || i, ARRAY[1]::float8[], 'acme/many', 'SUCCESS', 1, 'b' || i, '2026-01-07T00:00:00Z', now() FROM generate_series(1, 1001) AS i`);
    const exploding = await ask(allKey, 'query ($window: AnalyticsWindowInput) { pipelineStats(window: $window, groupBy: [BRANCH, DAY]) { groups { count } } }');
    expect(exploding.errors![0]!.extensions!.code).toBe('ANALYTICS_LIMIT');
    expect(exploding.errors![0]!.message).toMatch(/more than 1000 groups/);
  });
});

describe('analytics with the history turned off', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ config: { history: { enabled: false } } });
  });
  afterAll(() => stack?.close());

  it('every analytics field answers ANALYTICS_UNAVAILABLE naming the cause, while live fields keep working', async () => {
    const res = await stack.query<{ backends: { name: string }[] } & Record<string, unknown>>(
      '{ backends { name } pipelineStats { groups { count } } jobStats { groups { count } } timeToGreen { series { project } } failureCauses { failedJobs } flakyJobs { jobs { jobName } } }',
    );
    expect(res.data!.backends).toEqual([{ name: 'gh' }]);
    for (const field of ['pipelineStats', 'jobStats', 'timeToGreen', 'failureCauses', 'flakyJobs']) expect(res.data![field]).toBeNull();
    expect(res.errors!.map((e) => [e.path?.[0], e.extensions?.code])).toEqual(
      ['pipelineStats', 'jobStats', 'timeToGreen', 'failureCauses', 'flakyJobs'].map((f) => [f, 'ANALYTICS_UNAVAILABLE']),
    );
    expect(res.errors![0]!.message).toMatch(/history is turned off \(history.enabled: false\)/);
  });
});

describe('analytics of a GitLab project (numeric native id) under a key scoped to its full name', () => {
  let stack: GitlabStack;
  let groupKey: string;
  beforeAll(async () => {
    const group = await createApiKey('group');
    groupKey = group.key;
    stack = await startGitlabStack({
      sim: { history: 0 },
      config: { history: {}, auth: { mode: 'required', apiKeys: [{ id: 'group', hash: group.hash, scopes: [{ backends: ['gl'], projects: ['platform/backend'] }] }] } },
    });
    await stack.gateway.history.ready;
  }, 60_000);
  afterAll(() => stack?.close());

  async function recordedFinished(pipelineId: number): Promise<void> {
    const store = stack.gateway.history.store();
    await waitFor(async () => (await store.query<{ status: string }>(
      `SELECT status FROM pipelines WHERE backend = 'gl' AND native_id LIKE $1 AND finished_at IS NOT NULL`, [`%/pipelines/${pipelineId}`])).length === 1,
    15_000, `pipeline ${pipelineId} recorded as finished`);
  }

  it('names the project from its backend (webhooks carry only the id) and counts it for the key', async () => {
    const project = stack.sim.world.projects().find((p) => p.path === 'backend')!;
    expect(stack.gateway.services.state.get('Project', 'gl', String(project.id))).toBeUndefined();
    // Only webhooks, no read of the project: the history reads its name once and keeps it in live state.
    const first = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
    await stack.sim.runUntilIdle();
    await recordedFinished(first.pipelineId);
    await waitFor(() => stack.gateway.services.state.get('Project', 'gl', String(project.id)) !== undefined, 10_000, 'project name learned');
    // From then on every observation carries it (the first pipeline's may have been written before).
    const second = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
    await stack.sim.runUntilIdle();
    await recordedFinished(second.pipelineId);

    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${groupKey}` },
      body: JSON.stringify({ query: '{ pipelineStats(groupBy: [PROJECT]) { groups { key { backend project } count } } jobStats(groupBy: [PROJECT]) { groups { key { project } count } } }' }),
    });
    const { data, errors } = (await res.json()) as GraphqlResponse<{ pipelineStats: { groups: { key: { backend: string; project: string }; count: number }[] }; jobStats: { groups: { key: { project: string }; count: number }[] } }>;
    expect(errors).toBeUndefined();
    expect(data!.pipelineStats.groups).toEqual([{ key: { backend: 'gl', project: 'platform/backend' }, count: 2 }]);
    expect(data!.jobStats.groups).toEqual([{ key: { project: 'platform/backend' }, count: 2 }]);
    const rows = await stack.gateway.history.store().query<{ project_full_name: string | null }>(
      `SELECT project_full_name FROM pipelines WHERE backend = 'gl' AND native_id = $1`, [`${project.id}/pipelines/${second.pipelineId}`]);
    expect(rows).toEqual([{ project_full_name: 'platform/backend' }]);
  });
});
