import { describe, expect, it } from 'vitest';
import githubAdapter from '../../adapters/github/index.ts';
import { createGithubSimulator } from '../../adapters/github/simulator/index.ts';
import gitlabAdapter from '../../adapters/gitlab/index.ts';
import { createGitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import jenkinsAdapter from '../../adapters/jenkins/index.ts';
import { createJenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import type { AdapterContext, AdapterFactory, BackendAdapter } from '../../src/adapter-contract.ts';
import { simHarness } from '../helpers/sim-harness.ts';

/**
 * Adapter contract (ADAPTERS.md §6, "Scope"): every read by id refuses ids
 * outside the configured projects / organizations / groups / job roots with
 * null (or no jobs), without an upstream request, and `owns` says false for
 * entities outside the set. Run against each provider's simulator, whose
 * world holds the out-of-set project, so only the adapter's check stands
 * between a forged id and the upstream.
 */
interface ScopeCase {
  readonly provider: string;
  /** Starts the simulator and the adapter configured for a subset of its projects. */
  setUp(): Promise<{ adapter: BackendAdapter; requests: () => number; resetRequests: () => void }>;
  readonly inside: { project: string; pipeline: string; job: () => Promise<string> };
  readonly outside: { project: string; pipeline: string; job: () => Promise<string> };
}

function context(name: string): AdapterContext {
  const noop = () => {};
  const log = { warn: noop, debug: noop, info: noop, error: noop, trace: noop, child: () => log } as unknown as AdapterContext['log'];
  return {
    name,
    log,
    health: { success: noop, failure: noop, rateLimit: noop },
    now: () => new Date(),
    secret: (ref) => (ref && 'value' in ref ? ref.value : undefined),
  };
}

function make<C>(factory: AdapterFactory<C>, name: string, options: Record<string, unknown>): BackendAdapter {
  return factory.create(factory.configSchema.parse(options), context(name));
}

const github = simHarness(() => createGithubSimulator({ token: 'ghp_scope', seed: 3, history: 1 }));
const gitlab = simHarness(() => createGitlabSimulator({ token: 'glpat-scope', seed: 3, history: 1 }));
const jenkins = simHarness(() => createJenkinsSimulator({ user: 'bot', apiToken: 'jt', seed: 3, jobs: 4, history: 1 }));

let ghRuns: { api: number; infra: number } = { api: 0, infra: 0 };
let glIds: { backend: number; frontend: number; backendPipeline: number; frontendPipeline: number } = { backend: 0, frontend: 0, backendPipeline: 0, frontendPipeline: 0 };
let firstJobOf: (pipeline: number) => number = () => 0;

const cases: ScopeCase[] = [
  {
    provider: 'github',
    async setUp() {
      const sim = await github.boot();
      ghRuns = { api: sim.world.runs('api')[0]!.id, infra: sim.world.runs('infra')[0]!.id };
      firstJobOf = (run) => sim.world.jobs(run)[0]!.id;
      // octo-org/api and octo-org/web only; `other-org` covers nothing here.
      const adapter = make(githubAdapter, 'gh', { url: sim.url, token: { value: 'ghp_scope' }, repositories: ['octo-org/api', 'octo-org/web'], organizations: ['other-org'], runners: { organizations: [] } });
      return { adapter, requests: () => sim.requests.length, resetRequests: () => sim.resetRequests() };
    },
    inside: { project: 'octo-org/api', get pipeline() { return `octo-org/api/runs/${ghRuns.api}`; }, job: async () => `octo-org/api/jobs/${firstJobOf(ghRuns.api)}` },
    outside: { project: 'octo-org/infra', get pipeline() { return `octo-org/infra/runs/${ghRuns.infra}`; }, job: async () => `octo-org/infra/jobs/${firstJobOf(ghRuns.infra)}` },
  },
  {
    provider: 'gitlab',
    async setUp() {
      const sim = await gitlab.boot();
      const byPath = (p: string) => sim.world.projects().find((x) => x.path === p)!;
      const backend = byPath('backend');
      const frontend = byPath('frontend');
      const newest = (projectId: number) => sim.world.pipelines().find((p) => p.projectId === projectId)!.id;
      glIds = { backend: backend.id, frontend: frontend.id, backendPipeline: newest(backend.id), frontendPipeline: newest(frontend.id) };
      firstJobOf = (pipeline) => sim.world.jobs(pipeline)[0]!.id;
      const adapter = make(gitlabAdapter, 'gl', { url: sim.url, token: { value: 'glpat-scope' }, projects: [`${sim.world.group}/backend`], runners: { scope: 'none' } });
      // The directory's one listing (cached) is what decides numeric ids; warm it.
      await adapter.listProjects();
      return { adapter, requests: () => sim.requests.length, resetRequests: () => sim.resetRequests() };
    },
    inside: {
      get project() { return String(glIds.backend); },
      get pipeline() { return `${glIds.backend}/pipelines/${glIds.backendPipeline}`; },
      job: async () => `${glIds.backend}/jobs/${firstJobOf(glIds.backendPipeline)}`,
    },
    outside: {
      get project() { return String(glIds.frontend); },
      get pipeline() { return `${glIds.frontend}/pipelines/${glIds.frontendPipeline}`; },
      job: async () => `${glIds.frontend}/jobs/${firstJobOf(glIds.frontendPipeline)}`,
    },
  },
  {
    provider: 'jenkins',
    async setUp() {
      const sim = await jenkins.boot();
      const adapter = make(jenkinsAdapter, 'jk', { url: sim.url, user: 'bot', apiToken: { value: 'jt' }, jobs: ['pipeline-002'], requestsPerMinute: 10_000 });
      await adapter.listProjects();
      return { adapter, requests: () => sim.requests.length, resetRequests: () => sim.resetRequests() };
    },
    inside: { project: 'pipeline-002', pipeline: 'pipeline-002#1', job: async () => 'pipeline-002#1/stage/' },
    outside: { project: 'pipeline-004', pipeline: 'pipeline-004#1', job: async () => 'pipeline-004#1/build' },
  },
];

describe.each(cases)('adapter contract: reads stay inside the configured set ($provider)', (c) => {
  it('should answer null for ids outside the set without an upstream request, and serve ids inside it', async () => {
    const { adapter, requests, resetRequests } = await c.setUp();
    const outsideJob = await c.outside.job();
    resetRequests();

    expect(await adapter.batch.projects([c.outside.project])).toEqual([null]);
    expect(await adapter.batch.pipelines([c.outside.pipeline])).toEqual([null]);
    expect(await adapter.batch.jobs([outsideJob])).toEqual([null]);
    expect(await adapter.batch.jobsOfPipelines([c.outside.pipeline])).toEqual([[]]);
    expect(requests()).toBe(0);

    // The same reads inside the set do reach the upstream and find the entities.
    const [project] = await adapter.batch.projects([c.inside.project]);
    const [pipeline] = await adapter.batch.pipelines([c.inside.pipeline]);
    const [jobs] = await adapter.batch.jobsOfPipelines([c.inside.pipeline]);
    expect(project).toMatchObject({ type: 'Project', nativeId: c.inside.project });
    expect(pipeline).toMatchObject({ type: 'Pipeline', nativeId: c.inside.pipeline });
    expect(Array.isArray(jobs) && jobs.length).toBeGreaterThan(0);
  });

  it('should say through owns() which entities belong to the backend', async () => {
    const { adapter } = await c.setUp();
    const [pipeline] = await adapter.batch.pipelines([c.inside.pipeline]);
    const [project] = await adapter.batch.projects([c.inside.project]);
    if (!pipeline || pipeline instanceof Error || !project || project instanceof Error) throw new Error('inside entities not found');
    expect(adapter.owns(pipeline)).toBe(true);
    expect(adapter.owns(project)).toBe(true);
    // The same entity moved to the out-of-set project: what a bug or a forged read would produce.
    expect(adapter.owns({ ...pipeline, projectNativeId: c.outside.project })).toBe(false);
    expect(adapter.owns({ ...project, nativeId: c.outside.project, fullName: c.outside.project })).toBe(false);
  });
});

describe('adapter contract: organization membership decides GitHub ids without a request', () => {
  it('should read a repository of a configured organization and refuse another owner with 0 requests', async () => {
    const sim = await github.boot();
    const run = sim.world.runs('infra')[0]!;
    const adapter = make(githubAdapter, 'gh', { url: sim.url, token: { value: 'ghp_scope' }, organizations: ['octo-org'], runners: { organizations: [] } });
    sim.resetRequests();
    expect(await adapter.batch.pipelines([`other-org/infra/runs/${run.id}`])).toEqual([null]);
    expect(await adapter.batch.projects(['other-org/infra'])).toEqual([null]);
    expect(sim.requests).toHaveLength(0);
    const [inOrg] = await adapter.batch.pipelines([`octo-org/infra/runs/${run.id}`]);
    expect(inOrg).toMatchObject({ type: 'Pipeline' });
  });
});
