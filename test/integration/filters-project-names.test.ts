import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { job, pipeline } from '../helpers/ci-models.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * `projectNames` (issue 18, client kit): filters take project full names and patterns in
 * the syntax of key scopes. On GitLab, whose project ids are numeric, so a name can only
 * match through the name the gateway learned: queries (pushed upstream as project ids),
 * subscriptions (shared groups included), and history pages older than the live window.
 */
interface PipelineNodes { pipelines: { nodes: { id: string; name: string | null; project: { fullName: string } }[] } }
const PIPELINES = 'query($f: PipelineFilter) { pipelines(first: 50, filter: $f) { nodes { id name project { fullName } } } }';
const JOBS = 'query($f: JobFilter) { jobs(first: 50, filter: $f) { nodes { name project { fullName } } } }';

describe('projectNames: full names and key-scope patterns in filters (GitLab, numeric project ids)', () => {
  let stack: GitlabStack;
  let backendId = '';
  let frontendId = '';
  const projectsOf = (data: PipelineNodes | undefined) => [...new Set(data!.pipelines.nodes.map((p) => p.project.fullName))].sort();
  const subscribers = (n: number) => waitFor(() => stack.gateway.subscriptionCount === n, 5000, `${n} subscribers`);

  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 0 }, config: { history: { backfill: { enabled: false } } } });
    await stack.gateway.history.ready;
    const projects = stack.sim.world.projects();
    backendId = String(projects.find((p) => p.path === 'backend')!.id);
    frontendId = String(projects.find((p) => p.path === 'frontend')!.id);
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
    await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'lint', stage: 'test' }] });
    await stack.sim.runUntilIdle();
  }, 60_000);
  afterAll(() => stack.close());
  afterEach(() => subscribers(0));

  it('history pages older than the live window match the names the history recorded, with no upstream request', async () => {
    const base = Date.now() - 20 * 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const native = { provider: 'gitlab', status: 'success', conclusion: 'success', failureReason: null };
    const projects = [[backendId, 'platform/backend'], [frontendId, 'platform/frontend']] as const;
    const records: { entity: PipelineModel | JobModel; projectFullName: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const [projectId, fullName] = projects[i % 2]!;
      const created = base - i * 3_600_000;
      const pipelineId = `${projectId}/pipelines/90${i}`;
      const common = { backend: 'gl', projectNativeId: projectId, branch: 'main', createdAt: iso(created), startedAt: iso(created + 1000), finishedAt: iso(created + 60_000), native };
      records.push(
        { entity: pipeline(pipelineId, { ...common, name: `old-${i}`, number: 900 + i }), projectFullName: fullName },
        { entity: job(`${projectId}/jobs/90${i}`, { ...common, name: `old-job-${i}`, pipelineNativeId: pipelineId }), projectFullName: fullName },
      );
    }
    await stack.gateway.history.store().record(records.map((r) => ({ ...r, observedAt: iso(Date.now()) })));
    const range = { createdBefore: iso(base + 60_000), createdAfter: iso(base - 86_400_000) };
    stack.sim.resetRequests();
    const names = async (projectNames: string[], extra: Record<string, unknown> = {}) => {
      const res = await stack.query<PipelineNodes>(PIPELINES, { f: { ...range, projectNames, ...extra } });
      expect(res.errors, JSON.stringify(projectNames)).toBeUndefined();
      return res.data!.pipelines.nodes.map((p) => p.name);
    };
    expect(await names(['platform/backend'])).toEqual(['old-0', 'old-2', 'old-4']);
    expect(await names(['Platform/*'])).toEqual(['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5']);
    expect(await names(['platform/**'])).toEqual(['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5']);
    expect(await names(['PLATFORM/FRONT*', 'nowhere/x'])).toEqual(['old-1', 'old-3', 'old-5']);
    expect(await names(['platform'])).toEqual([]);
    expect(await names(['platform/**'], { projects: [toGlobalId('Project', 'gl', frontendId)] })).toEqual(['old-1', 'old-3', 'old-5']);
    expect(await names(['platform/backend'], { projects: [toGlobalId('Project', 'gl', frontendId)] })).toEqual([]);
    const jobs = await stack.query<{ jobs: { nodes: { name: string }[] } }>(JOBS, { f: { ...range, projectNames: ['platform/frontend'] } });
    expect(jobs.errors).toBeUndefined();
    expect(jobs.data!.jobs.nodes.map((j) => j.name)).toEqual(['old-job-1', 'old-job-3', 'old-job-5']);
    expect(stack.sim.requests.map((r) => r.path)).toEqual([]);
  });

  it('queries: exact names, case-insensitive, org/* and org/**, AND with projects; the name is pushed upstream as the project id', async () => {
    stack.sim.resetRequests();
    const exact = await stack.query<PipelineNodes>(PIPELINES, { f: { projectNames: ['platform/backend'] } });
    expect(exact.errors).toBeUndefined();
    expect(projectsOf(exact.data)).toEqual(['platform/backend']);
    // Only the named project's pipelines were listed upstream.
    const listed = stack.sim.requests.map((r) => r.path).filter((p) => /\/pipelines(\?|$)/.test(p));
    expect(listed.some((p) => p.includes(`/projects/${backendId}/pipelines`)), listed.join('\n')).toBe(true);
    expect(listed.some((p) => p.includes(`/projects/${frontendId}/pipelines`)), listed.join('\n')).toBe(false);

    for (const [names, expected] of [
      [['PLATFORM/Backend'], ['platform/backend']],
      [['platform/*'], ['platform/backend', 'platform/frontend']],
      [['platform/**'], ['platform/backend', 'platform/frontend']],
      [['**'], ['platform/backend', 'platform/frontend']],
      [['platform/front*', 'nowhere/backend'], ['platform/frontend']],
      [['platform'], []],
      [['other/**'], []],
      [[], []],
    ] as const) {
      const res = await stack.query<PipelineNodes>(PIPELINES, { f: { projectNames: names } });
      expect(res.errors, JSON.stringify(names)).toBeUndefined();
      expect(projectsOf(res.data), JSON.stringify(names)).toEqual(expected);
    }

    const backendGid = toGlobalId('Project', 'gl', backendId);
    const frontendGid = toGlobalId('Project', 'gl', frontendId);
    const both = await stack.query<PipelineNodes>(PIPELINES, { f: { projects: [backendGid], projectNames: ['platform/*'] } });
    expect(projectsOf(both.data)).toEqual(['platform/backend']);
    const neither = await stack.query<PipelineNodes>(PIPELINES, { f: { projects: [frontendGid], projectNames: ['platform/backend'] } });
    expect(neither.data!.pipelines.nodes).toEqual([]);

    const jobs = await stack.query<{ jobs: { nodes: { name: string; project: { fullName: string } }[] } }>(JOBS, { f: { projectNames: ['Platform/Frontend'] } });
    expect(jobs.errors).toBeUndefined();
    expect(jobs.data!.jobs.nodes).toEqual([{ name: 'lint', project: { fullName: 'platform/frontend' } }]);
    const noJobs = await stack.query<{ jobs: { nodes: unknown[] } }>(JOBS, { f: { projects: [backendGid], projectNames: ['platform/frontend'] } });
    expect(noJobs.data!.jobs.nodes).toEqual([]);

    const bad = await stack.query(PIPELINES, { f: { projectNames: ['platform//backend'] } });
    expect(bad.errors?.[0]).toMatchObject({ message: expect.stringContaining('filter.projectNames'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('subscriptions: a name filter, a pattern and no filter, sharing one operation text, each get their own projects', async () => {
    interface Event { pipelineUpdated: { pipeline: { id: string; status: string } } }
    const BY_VARIABLE = 'subscription($f: PipelineFilter) { pipelineUpdated(filter: $f) { pipeline { id status } } }';
    let sentinel = '';
    const done = (items: Event[]) => items.some((e) => e.pipelineUpdated.pipeline.id === sentinel && e.pipelineUpdated.pipeline.status === 'SUCCESS');
    const client = stack.wsClient();
    const everything = collect<Event>(client, BY_VARIABLE, { f: null }, done);
    const backendOnly = collect<Event>(client, BY_VARIABLE, { f: { projectNames: ['PLATFORM/backend'] } }, done);
    const pattern = collect<Event>(client, BY_VARIABLE, { f: { projectNames: ['platform/**'] } }, done);
    const literal = collect<Event>(client, 'subscription { pipelineUpdated(filter: { projectNames: ["platform/backend"], statusChanged: true }) { pipeline { id status } } }', undefined, done);
    await subscribers(4);
    const idOf = (projectId: string, run: { pipelineId: number }) => toGlobalId('Pipeline', 'gl', `${projectId}/pipelines/${run.pipelineId}`);
    const other = idOf(frontendId, await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'lint', stage: 'test' }] }));
    await stack.sim.runUntilIdle();
    sentinel = idOf(backendId, await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] }));
    await stack.sim.runUntilIdle();
    const ids = (events: Event[]) => [...new Set(events.map((e) => e.pipelineUpdated.pipeline.id))];
    expect(ids(await everything.done)).toEqual([other, sentinel]);
    expect(ids(await pattern.done)).toEqual([other, sentinel]);
    expect(ids(await backendOnly.done)).toEqual([sentinel]);
    expect(ids(await literal.done)).toEqual([sentinel]);
  });

});
