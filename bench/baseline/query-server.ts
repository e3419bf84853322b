/**
 * Baseline for the query-load bench: a stock graphql-yoga server over the
 * gateway's own SDL (schema/*.graphql, read as is; the @rateLimit directive is
 * declared there and simply not enforced) with plain hand-written resolvers
 * that call the GitHub and GitLab REST APIs with `fetch` on every request: no
 * DataLoader, no cache, no state. This is the server a team would write in an
 * afternoon; the resolvers cover what the bench's dashboard query selects.
 *
 * - Query.pipelines: GitHub `GET /orgs/:org/repos` then `GET /repos/:r/actions/runs`
 *   per repository; GitLab `GET /groups/:g/projects` then `GET /projects/:id/pipelines`
 *   per project; merged newest first, cut to `first`.
 * - Pipeline.jobs: `GET .../actions/runs/:id/jobs` or `GET /projects/:id/pipelines/:id/jobs`.
 * - Job.runner: GitHub jobs carry only runner_id/runner_name, so the resolver reads
 *   `GET /orgs/:org/actions/runners/:id` (the field resolver runs once per job: N+1);
 *   GitLab jobs embed their runner, so no request.
 * - Query.runners: `GET /orgs/:org/actions/runners` and `GET /groups/:g/runners`;
 *   GitLab list items carry no tags, so Runner.labels reads `GET /runners/:id` (N+1).
 *
 * Same child protocol as bench/gateway-process.ts: listens on 127.0.0.1, prints
 * `{"port":N,"pid":N}` on stdout, exits on SIGTERM/SIGINT or when stdin closes.
 * Input: env BENCH_GATEWAY = JSON { config: { github: {url, token, org}, gitlab: {url, token, group} } }.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createYoga } from 'graphql-yoga';
import { closeHttpServer, listenHttpServer, serveBenchChild } from '../lib/child-lifecycle.ts';

interface Upstreams {
  github: { url: string; token: string; org: string };
  gitlab: { url: string; token: string; group: string };
}
const input = JSON.parse(process.env.BENCH_GATEWAY ?? 'null') as { config?: Upstreams } | null;
if (!input?.config) {
  process.stderr.write('BENCH_GATEWAY with a config is not set\n');
  process.exit(2);
}
const { github, gitlab } = input.config;

type Json = Record<string, unknown>;

async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}
const gh = (path: string) => getJson(`${github.url}${path}`, { authorization: `token ${github.token}`, 'x-github-api-version': '2022-11-28' });
const gl = (path: string) => getJson(`${gitlab.url}${path}`, { 'private-token': gitlab.token });

// ---- status vocabulary (a hand-written mapping, as a plain server would have) -------
function githubStatus(status: unknown, conclusion: unknown): string {
  switch (status) {
    case 'queued': return 'QUEUED';
    case 'in_progress': return 'RUNNING';
    case 'requested': return 'PENDING';
    case 'pending': case 'waiting': return 'WAITING';
    case 'completed':
      switch (conclusion) {
        case 'success': case 'neutral': return 'SUCCESS';
        case 'failure': return 'FAILURE';
        case 'cancelled': return 'CANCELED';
        case 'skipped': return 'SKIPPED';
        case 'timed_out': return 'TIMED_OUT';
        case 'action_required': return 'WAITING';
        case 'startup_failure': return 'ERROR';
        default: return 'UNKNOWN';
      }
    default: return 'UNKNOWN';
  }
}
function gitlabStatus(status: unknown, allowFailure = false): string {
  switch (status) {
    case 'created': return 'PENDING';
    case 'pending': case 'preparing': return 'QUEUED';
    case 'waiting_for_resource': case 'manual': case 'scheduled': case 'waiting_for_callback': return 'WAITING';
    case 'running': return 'RUNNING';
    case 'canceling': return 'CANCELING';
    case 'success': return 'SUCCESS';
    case 'failed': return allowFailure ? 'UNSTABLE' : 'FAILURE';
    case 'canceled': return 'CANCELED';
    case 'skipped': return 'SKIPPED';
    default: return 'UNKNOWN';
  }
}

// ---- shapes handed to graphql's default resolvers ---------------------------------
const BACKENDS = { gh: { id: 'gh', name: 'gh', provider: 'GITHUB' }, gl: { id: 'gl', name: 'gl', provider: 'GITLAB' } };

interface PipelineSource {
  id: string;
  backend: (typeof BACKENDS)['gh' | 'gl'];
  name: string | null;
  number: number | null;
  status: string;
  branch: string | null;
  commitSha: string | null;
  createdAt: string;
  project: { id: string; name: string; fullName: string };
  /** How Pipeline.jobs reaches upstream. */
  jobsPath: string;
}

function githubRunner(r: Json): Json {
  const labels = Array.isArray(r.labels) ? (r.labels as Json[]).map((l) => String(l.name)) : [];
  return {
    id: `gh:runner:${String(r.id)}`, backend: BACKENDS.gh, name: r.name, paused: false, labels,
    state: r.status === 'offline' ? 'OFFLINE' : r.busy ? 'BUSY' : 'IDLE',
    scope: 'ORGANIZATION',
  };
}
function gitlabRunner(r: Json): Json {
  const status = String(r.status);
  const state = status === 'stale' ? 'STALE' : status === 'never_contacted' ? 'NEVER_CONTACTED'
    : !r.online ? 'OFFLINE' : r.job_execution_status === 'active' ? 'BUSY' : 'IDLE';
  return {
    id: `gl:runner:${String(r.id)}`, glId: r.id, backend: BACKENDS.gl, name: r.description, paused: r.paused === true,
    // List items carry no tags: Runner.labels then reads the runner's details.
    labels: Array.isArray(r.tag_list) ? r.tag_list : undefined, state,
    scope: r.runner_type === 'instance_type' ? 'INSTANCE' : r.runner_type === 'group_type' ? 'GROUP' : 'PROJECT',
  };
}

async function githubPipelines(first: number): Promise<PipelineSource[]> {
  const repos = (await gh(`/orgs/${github.org}/repos?per_page=100`)) as Json[];
  const lists = await Promise.all(repos.map((repo) =>
    gh(`/repos/${String(repo.full_name)}/actions/runs?per_page=${first}`).then((body) => ({ repo, runs: (body as { workflow_runs: Json[] }).workflow_runs }))));
  return lists.flatMap(({ repo, runs }) => runs.map((run) => ({
    id: `gh:pipeline:${String(run.id)}`, backend: BACKENDS.gh,
    name: run.name as string, number: run.run_number as number, status: githubStatus(run.status, run.conclusion),
    branch: run.head_branch as string, commitSha: run.head_sha as string, createdAt: run.created_at as string,
    project: { id: `gh:project:${String(repo.id)}`, name: repo.name as string, fullName: repo.full_name as string },
    jobsPath: `/repos/${String(repo.full_name)}/actions/runs/${String(run.id)}/jobs?per_page=100`,
  })));
}

async function gitlabPipelines(first: number): Promise<PipelineSource[]> {
  const projects = (await gl(`/groups/${encodeURIComponent(gitlab.group)}/projects?include_subgroups=true&per_page=100`)) as Json[];
  const lists = await Promise.all(projects.map((project) =>
    gl(`/projects/${String(project.id)}/pipelines?per_page=${first}`).then((body) => ({ project, pipelines: body as Json[] }))));
  return lists.flatMap(({ project, pipelines }) => pipelines.map((p) => ({
    id: `gl:pipeline:${String(p.id)}`, backend: BACKENDS.gl,
    name: (p.name as string | null) ?? null, number: p.iid as number, status: gitlabStatus(p.status),
    branch: p.ref as string, commitSha: p.sha as string, createdAt: p.created_at as string,
    project: { id: `gl:project:${String(project.id)}`, name: project.name as string, fullName: project.path_with_namespace as string },
    jobsPath: `/projects/${String(project.id)}/pipelines/${String(p.id)}/jobs?per_page=100`,
  })));
}

const schemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));
const typeDefs = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => readFileSync(`${schemaDir}${f}`, 'utf8'));

const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Query: {
      pipelines: async (_: unknown, args: { first?: number | null }) => {
        const first = Math.min(100, Math.max(1, args.first ?? 20));
        const [a, b] = await Promise.all([githubPipelines(first), gitlabPipelines(first)]);
        const nodes = [...a, ...b].sort((x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt)).slice(0, first);
        return { nodes, edges: nodes.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: a.length + b.length > first, endCursor: nodes.at(-1)?.id ?? null } };
      },
      runners: async () => {
        const [a, b] = await Promise.all([
          gh(`/orgs/${github.org}/actions/runners?per_page=100`).then((body) => (body as { runners: Json[] }).runners.map(githubRunner)),
          gl(`/groups/${encodeURIComponent(gitlab.group)}/runners?per_page=100`).then((body) => (body as Json[]).map(gitlabRunner)),
        ]);
        const nodes = [...a, ...b];
        return { nodes, edges: nodes.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: false, endCursor: null } };
      },
    },
    Pipeline: {
      jobs: async (p: PipelineSource) => {
        const body = await (p.backend === BACKENDS.gh ? gh(p.jobsPath) : gl(p.jobsPath));
        const raw = p.backend === BACKENDS.gh ? (body as { jobs: Json[] }).jobs : (body as Json[]);
        const nodes = raw.map((j) => ({
          id: `${p.backend.name}:job:${String(j.id)}`, backend: p.backend, name: j.name,
          status: p.backend === BACKENDS.gh ? githubStatus(j.status, j.conclusion) : gitlabStatus(j.status, j.allow_failure === true),
          raw: j,
        }));
        return { nodes, edges: nodes.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: false, endCursor: null } };
      },
    },
    Runner: {
      labels: async (r: { labels?: string[]; glId?: number }) => {
        if (r.labels) return r.labels;
        const detail = (await gl(`/runners/${String(r.glId)}`)) as Json;
        return Array.isArray(detail.tag_list) ? detail.tag_list : [];
      },
    },
    Job: {
      runner: async (job: { backend: { name: string }; raw: Json }) => {
        if (job.backend.name === 'gl') return job.raw.runner ? gitlabRunner(job.raw.runner as Json) : null;
        if (job.raw.runner_id === null || job.raw.runner_id === undefined) return null;
        return githubRunner((await gh(`/orgs/${github.org}/actions/runners/${String(job.raw.runner_id)}`)) as Json);
      },
    },
  },
  resolverValidationOptions: { requireResolversForResolveType: 'ignore' },
});

const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', logging: false, graphiql: false });
const server = createServer((req, res) => void yoga.handle(req, res));

await serveBenchChild({
  listen: () => listenHttpServer(server),
  close: () => closeHttpServer(server),
});
