/**
 * Faithfulness of the GitHub simulator: every REST response it gives must
 * validate against GitHub's own OpenAPI description, and every webhook body
 * against @octokit/webhooks-schemas, across all run/job/runner states.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { verify } from '@octokit/webhooks-methods';
import { Ajv, type ValidateFunction } from 'ajv';
import { default as addFormatsCjs } from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const require = createRequire(import.meta.url);
// ajv-formats is CJS (`exports.default = plugin`): under NodeNext the default import is the module object.
const addFormats = addFormatsCjs.default;

const SECRET = 'sim-secret';
const TOKEN = 'ghp_simulated';
const REST_PATHS = [
  '/repos/{owner}/{repo}',
  '/orgs/{org}/repos',
  '/repos/{owner}/{repo}/actions/runs',
  '/repos/{owner}/{repo}/actions/runs/{run_id}',
  '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
  '/repos/{owner}/{repo}/actions/jobs/{job_id}',
  '/repos/{owner}/{repo}/actions/runners',
  '/repos/{owner}/{repo}/actions/runners/{runner_id}',
  '/orgs/{org}/actions/runners',
  '/orgs/{org}/actions/runners/{runner_id}',
  '/rate_limit',
] as const;
type RestPath = (typeof REST_PATHS)[number];

let rest: Map<RestPath, ValidateFunction>;
let hooks: Ajv;

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // GitHub's noreply addresses for bots look like 49699333+dependabot[bot]@users.noreply.github.com:
  // real, but outside ajv-formats' conservative email pattern.
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  return ajv;
}

beforeAll(() => {
  // The deref'd spec inlines every $ref (it has no `components`); take only the 200 schemas we need.
  const spec = JSON.parse(
    readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.deref.json'), 'utf8'),
  ) as { paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: object }> }> } }> };
  const ajv = newAjv();
  rest = new Map();
  for (const p of REST_PATHS) {
    const schema = spec.paths[p]?.get.responses['200']?.content['application/json']?.schema;
    if (!schema) throw new Error(`no 200 schema for ${p}`);
    rest.set(p, ajv.compile(allowNullInNullableEnums(schema)));
  }
  hooks = newAjv();
  // Only the definitions: the root `oneOf` over every event would make ajv compile all of them (~2 s).
  const { definitions } = require('@octokit/webhooks-schemas') as { definitions: object };
  hooks.addSchema({ definitions }, 'webhooks');
}, 30_000);

/**
 * OpenAPI 3.0 `nullable: true` next to an `enum` without null is ambiguous;
 * ajv applies the enum strictly, but GitHub does send null there (a queued
 * job's `conclusion`). Read it the way the spec authors mean it: null allowed.
 */
function allowNullInNullableEnums<T>(schema: T): T {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.nullable === true && Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...o.enum, null];
    Object.values(o).forEach(walk);
  };
  walk(schema);
  return schema;
}

function expectValid(validate: ValidateFunction | undefined, data: unknown, what: string): void {
  if (!validate) throw new Error(`no validator for ${what}`);
  const ok = validate(data);
  expect(ok, `${what}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`).toBe(true);
}

async function getJson(sim: GithubSimulator, path: string): Promise<unknown> {
  const res = await fetch(sim.url + path, { headers: { authorization: `Bearer ${TOKEN}`, 'x-github-api-version': '2022-11-28' } });
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return res.json();
}

describe('github simulator faithfulness', () => {
  let sim: GithubSimulator;
  let receiver: Receiver;
  const seen = {
    runStatus: new Set<string>(),
    jobStatus: new Set<string>(),
    runner: new Set<string>(),
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    sim = createGithubSimulator({
      seed: 7,
      token: TOKEN,
      webhook: { url: receiver.url, secret: SECRET },
      repositories: ['api', 'web'],
      history: 2,
      runners: [
        { name: 'linux-1', labels: ['self-hosted', 'Linux', 'X64'], scope: 'org' },
        { name: 'gpu-1', labels: ['self-hosted', 'Linux', 'gpu'], scope: { repo: 'api' } },
        { name: 'mac-1', labels: ['self-hosted', 'macOS'], scope: 'org', status: 'offline' },
      ],
    });
    await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });

  async function validateEverything(): Promise<void> {
    const o = sim.world.org;
    for (const repo of ['api', 'web']) {
      expectValid(rest.get('/repos/{owner}/{repo}'), await getJson(sim, `/repos/${o}/${repo}`), 'repo');
      const list = (await getJson(sim, `/repos/${o}/${repo}/actions/runs?per_page=100`)) as { workflow_runs: { id: number; status: string; conclusion: string | null }[] };
      expectValid(rest.get('/repos/{owner}/{repo}/actions/runs'), list, 'runs list');
      for (const run of list.workflow_runs.slice(0, 4)) {
        seen.runStatus.add(`${run.status}/${run.conclusion}`);
        expectValid(rest.get('/repos/{owner}/{repo}/actions/runs/{run_id}'), await getJson(sim, `/repos/${o}/${repo}/actions/runs/${run.id}`), 'run');
        const jobs = (await getJson(sim, `/repos/${o}/${repo}/actions/runs/${run.id}/jobs?filter=all`)) as { jobs: { id: number; status: string; conclusion: string | null }[] };
        expectValid(rest.get('/repos/{owner}/{repo}/actions/runs/{run_id}/jobs'), jobs, 'jobs list');
        for (const job of jobs.jobs) {
          seen.jobStatus.add(`${job.status}/${job.conclusion}`);
          expectValid(rest.get('/repos/{owner}/{repo}/actions/jobs/{job_id}'), await getJson(sim, `/repos/${o}/${repo}/actions/jobs/${job.id}`), 'job');
        }
      }
      const repoRunners = (await getJson(sim, `/repos/${o}/${repo}/actions/runners`)) as { runners: { id: number }[] };
      expectValid(rest.get('/repos/{owner}/{repo}/actions/runners'), repoRunners, 'repo runners');
      for (const r of repoRunners.runners) {
        expectValid(rest.get('/repos/{owner}/{repo}/actions/runners/{runner_id}'), await getJson(sim, `/repos/${o}/${repo}/actions/runners/${r.id}`), 'repo runner');
      }
    }
    expectValid(rest.get('/orgs/{org}/repos'), await getJson(sim, `/orgs/${o}/repos`), 'org repos');
    const runners = (await getJson(sim, `/orgs/${o}/actions/runners`)) as { runners: { id: number; status: string; busy: boolean }[] };
    expectValid(rest.get('/orgs/{org}/actions/runners'), runners, 'org runners');
    for (const r of runners.runners) {
      seen.runner.add(r.status === 'offline' ? 'offline' : r.busy ? 'busy' : 'idle');
      expectValid(rest.get('/orgs/{org}/actions/runners/{runner_id}'), await getJson(sim, `/orgs/${o}/actions/runners/${r.id}`), 'org runner');
    }
    expectValid(rest.get('/rate_limit'), await getJson(sim, '/rate_limit'), 'rate_limit');
  }

  it('REST responses validate against the OpenAPI schemas in every state', async () => {
    // Guard against a vacuous validator.
    expect(rest.get('/repos/{owner}/{repo}/actions/jobs/{job_id}')?.({ id: 'x' })).toBe(false);
    await validateEverything();
    await sim.triggerRun({
      repo: 'api',
      event: 'pull_request',
      jobs: [
        { name: 'lint', labels: ['self-hosted', 'linux'] },
        { name: 'test', labels: ['self-hosted', 'linux', 'x64'], outcome: 'failure', steps: ['Checkout', 'Install', 'Test'] },
        { name: 'gpu', labels: ['gpu'], outcome: 'cancelled' },
        { name: 'docs', outcome: 'skipped' },
        { name: 'format', labels: ['ubuntu-latest'], outcome: 'failure' }, // GitHub-hosted
      ],
    });
    await sim.triggerRun({ repo: 'web', workflow: 'Deploy', jobs: [{ name: 'deploy', labels: ['self-hosted'] }] });
    await validateEverything();
    while (await sim.step()) await validateEverything();
    for (const s of ['queued/null', 'in_progress/null', 'completed/success', 'completed/failure', 'completed/cancelled']) {
      expect(seen.runStatus.has(s), `run ${s} seen`).toBe(true);
    }
    for (const s of ['queued/null', 'in_progress/null', 'completed/success', 'completed/failure', 'completed/cancelled', 'completed/skipped']) {
      expect(seen.jobStatus.has(s), `job ${s} seen`).toBe(true);
    }
    expect([...seen.runner].sort()).toEqual(['busy', 'idle', 'offline']);
  });

  it('every webhook validates against @octokit/webhooks-schemas and is correctly signed', async () => {
    const kinds = new Set<string>();
    expect(receiver.received.length).toBeGreaterThan(10);
    expect(receiver.received.length).toBe(sim.deliveries.length);
    for (const [i, d] of receiver.received.entries()) {
      const h = d.headers;
      const event = String(h['x-github-event']);
      const payload = JSON.parse(d.body) as { action: string };
      kinds.add(`${event}.${payload.action}`);
      expect(h['content-type']).toBe('application/json');
      expect(h['user-agent']).toMatch(/^GitHub-Hookshot\//);
      expect(h['x-github-delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(h['x-github-hook-id']).toMatch(/^\d+$/);
      expect(h['x-github-hook-installation-target-id']).toBe(String(sim.world.orgId));
      expect(h['x-github-hook-installation-target-type']).toBe('organization');
      expect(await verify(SECRET, d.body, String(h['x-hub-signature-256']))).toBe(true);
      expect(await verify('wrong', d.body, String(h['x-hub-signature-256']))).toBe(false);
      expect(sim.deliveries[i]?.id).toBe(h['x-github-delivery']);
      const validate = hooks.getSchema(`webhooks#/definitions/${event}$${payload.action}`);
      expectValid(validate, payload, `${event}.${payload.action} #${i}`);
      // Guard against a vacuous validator: the schemas forbid unknown top-level fields.
      if (i === 0) expect(validate?.({ ...payload, bogus: true })).toBe(false);
    }
    expect([...kinds].sort()).toEqual([
      'workflow_job.completed', 'workflow_job.in_progress', 'workflow_job.queued',
      'workflow_run.completed', 'workflow_run.in_progress', 'workflow_run.requested',
    ]);
  });

  it('queued jobs carry null runner fields; in-progress ones name their runner', () => {
    for (const d of receiver.received) {
      const p = JSON.parse(d.body) as { action: string; workflow_job?: Record<string, unknown> };
      const job = p.workflow_job;
      if (!job) continue;
      if (p.action === 'queued') {
        expect([job.runner_id, job.runner_name, job.runner_group_id, job.runner_group_name]).toEqual([null, null, null, null]);
        expect(job.steps).toEqual([]);
      }
      if (p.action === 'in_progress') expect(job.runner_name).toEqual(expect.any(String));
    }
  });

  it('autoplay traffic (random runs, runner flips) stays schema-valid', async () => {
    const hook = await startReceiver();
    const auto = createGithubSimulator({ seed: 11, token: TOKEN, history: 1, webhook: { url: hook.url, secret: SECRET } });
    await auto.start();
    try {
      auto.autoplay({ intervalMs: 2 });
      await new Promise((r) => setTimeout(r, 300));
      auto.stopAutoplay();
      expect(auto.deliveries.length).toBeGreaterThan(10);
      for (const d of auto.deliveries) {
        const payload = JSON.parse(d.body) as { action: string };
        expectValid(hooks.getSchema(`webhooks#/definitions/${d.event}$${payload.action}`), payload, `${d.event}.${payload.action}`);
      }
      for (const run of auto.world.runs().slice(0, 5)) {
        const path = `/repos/${auto.world.org}/${run.repo}/actions/runs/${run.id}`;
        expectValid(rest.get('/repos/{owner}/{repo}/actions/runs/{run_id}'), await getJson(auto, path), 'autoplay run');
        expectValid(rest.get('/repos/{owner}/{repo}/actions/runs/{run_id}/jobs'), await getJson(auto, `${path}/jobs`), 'autoplay jobs');
      }
      expectValid(rest.get('/orgs/{org}/actions/runners'), await getJson(auto, `/orgs/${auto.world.org}/actions/runners`), 'autoplay runners');
    } finally {
      await auto.stop();
      await hook.close();
    }
  });
});
