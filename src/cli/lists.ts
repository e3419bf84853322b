import { booleanOption, integerOption, listOption, stringOption, type Command, type Invocation, type OptionSpec } from './command.ts';
import { CONNECTION_OPTIONS } from './connection.ts';
import { duration, shortSha, statusText, table } from './format.ts';
import { withClient } from './client-command.ts';
import type { GatewayClient } from './gateway-client.ts';
import { resolveProject } from './projects.ts';

/**
 * `switchyard pipelines | jobs | runners | pools | stats`: one query each. An aligned table by
 * default; `--json` prints NDJSON (one object per line, the fields as the API names them) for scripts.
 */

const JSON_OPTION: OptionSpec = { type: 'boolean', help: 'print NDJSON: one JSON object per line, fields as in the GraphQL API' };
const BACKEND: OptionSpec = { type: 'string', multiple: true, placeholder: '<name>', help: 'only these backends (repeat, or a,b)' };
const PROJECT: OptionSpec = { type: 'string', multiple: true, placeholder: '<fullName|id>', help: 'only these projects, e.g. octo-org/api (repeat, or a,b)' };
const BRANCH: OptionSpec = { type: 'string', placeholder: '<branch>', help: 'only this branch' };
const STATUS: OptionSpec = { type: 'string', multiple: true, placeholder: '<STATUS>', help: 'only these statuses, e.g. FAILURE,RUNNING (repeat, or a,b)' };
const LIMIT: OptionSpec = { type: 'string', placeholder: '<n>', help: 'how many, newest first (default 20, at most 100)' };

function print<T>(inv: Invocation, nodes: readonly T[], headers: readonly string[], row: (node: T) => string[]): number {
  if (booleanOption(inv.values, 'json')) {
    for (const node of nodes) inv.io.stdout(`${JSON.stringify(node)}\n`);
  } else if (nodes.length === 0) {
    inv.io.stderr('nothing matches\n');
  } else {
    inv.io.stdout(table(headers, nodes.map(row)));
  }
  return 0;
}

const upper = (values: string[] | undefined) => values?.map((s) => s.toUpperCase());

async function projectIds(inv: Invocation, client: GatewayClient): Promise<string[] | undefined> {
  const names = listOption(inv.values, 'project');
  const backends = listOption(inv.values, 'backend');
  return names && Promise.all(names.map((n) => resolveProject(client, n, backends)));
}

const since = (iso: string | null | undefined): string => (iso ? duration((Date.now() - Date.parse(iso)) / 1000) + ' ago' : '');

interface PipelineRow {
  id: string; backend: { name: string }; project: { fullName: string }; number: number | null; name: string | null; title: string | null;
  status: string; branch: string | null; commitSha: string | null; event: string | null; attempt: number; url: string | null;
  createdAt: string; startedAt: string | null; finishedAt: string | null; duration: number | null;
}

export const pipelinesCommand: Command = {
  name: 'pipelines',
  summary: 'list recent pipelines (runs, pipelines, builds), newest first',
  options: { backend: BACKEND, project: PROJECT, branch: BRANCH, status: STATUS, limit: LIMIT, json: JSON_OPTION, ...CONNECTION_OPTIONS },
  example: 'switchyard pipelines --project octo-org/api --status FAILURE --limit 5',
  run: (inv) => withClient(inv, async (client) => {
    const projects = await projectIds(inv, client);
    const filter = { backends: listOption(inv.values, 'backend'), projects, branch: stringOption(inv.values, 'branch'), status: upper(listOption(inv.values, 'status')) };
    const data = await client.query<{ pipelines: { nodes: PipelineRow[] } }>(
      `query($first: Int, $filter: PipelineFilter) { pipelines(first: $first, filter: $filter) { nodes {
        id backend { name } project { fullName } number name title status branch commitSha event attempt url createdAt startedAt finishedAt duration
      } } }`,
      { first: integerOption(inv.values, 'limit', { min: 1, max: 100 }) ?? 20, filter },
    );
    return print(inv, data.pipelines.nodes, ['STATUS', 'PROJECT', 'NUMBER', 'NAME', 'BRANCH', 'COMMIT', 'CREATED', 'DURATION', 'ID'], (p) => [
      statusText(p.status), p.project.fullName, p.number === null ? '' : `#${p.number}`, p.name ?? '', p.branch ?? '', shortSha(p.commitSha), since(p.createdAt), duration(p.duration), p.id,
    ]);
  }),
};

interface JobRow {
  id: string; backend: { name: string }; project: { fullName: string }; pipeline: { id: string; number: number | null } | null; name: string;
  status: string; attempt: number; runnerName: string | null; labels: string[]; createdAt: string | null; startedAt: string | null;
  finishedAt: string | null; duration: number | null; queueTime: number | null; url: string | null;
}

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list jobs (GitHub jobs, GitLab jobs, Jenkins stages) of recent pipelines, newest first',
  options: {
    backend: BACKEND, project: PROJECT, pipeline: { type: 'string', multiple: true, placeholder: '<id>', help: 'only jobs of these pipelines (global ids)' },
    branch: BRANCH, status: STATUS, limit: LIMIT, json: JSON_OPTION, ...CONNECTION_OPTIONS,
  },
  example: 'switchyard jobs --status FAILURE --branch main --json',
  run: (inv) => withClient(inv, async (client) => {
    const projects = await projectIds(inv, client);
    const filter = {
      backends: listOption(inv.values, 'backend'), projects, pipelines: listOption(inv.values, 'pipeline'),
      branch: stringOption(inv.values, 'branch'), status: upper(listOption(inv.values, 'status')),
    };
    const data = await client.query<{ jobs: { nodes: JobRow[] } }>(
      `query($first: Int, $filter: JobFilter) { jobs(first: $first, filter: $filter) { nodes {
        id backend { name } project { fullName } pipeline { id number } name status attempt runnerName labels
        createdAt startedAt finishedAt duration queueTime url
      } } }`,
      { first: integerOption(inv.values, 'limit', { min: 1, max: 100 }) ?? 20, filter },
    );
    return print(inv, data.jobs.nodes, ['STATUS', 'PROJECT', 'PIPELINE', 'JOB', 'RUNNER', 'QUEUED', 'DURATION', 'ID'], (j) => [
      statusText(j.status), j.project.fullName, j.pipeline?.number != null ? `#${j.pipeline.number}` : '', j.name, j.runnerName ?? '',
      duration(j.queueTime), duration(j.duration), j.id,
    ]);
  }),
};

interface RunnerRow {
  id: string; backend: { name: string }; name: string; state: string; paused: boolean; labels: string[]; os: string | null;
  currentJob: { id: string; name: string } | null;
}

export const runnersCommand: Command = {
  name: 'runners',
  summary: 'list runners and agents with their state',
  options: {
    backend: BACKEND,
    state: { type: 'string', multiple: true, placeholder: '<STATE>', help: 'only these states: IDLE, BUSY, OFFLINE, STALE, NEVER_CONTACTED (repeat, or a,b)' },
    label: { type: 'string', multiple: true, placeholder: '<label>', help: 'only runners carrying all these labels' },
    limit: LIMIT, json: JSON_OPTION, ...CONNECTION_OPTIONS,
  },
  example: 'switchyard runners --state OFFLINE --backend github-main',
  run: (inv) => withClient(inv, async (client) => {
    const filter = { backends: listOption(inv.values, 'backend'), state: upper(listOption(inv.values, 'state')), labels: listOption(inv.values, 'label') };
    const data = await client.query<{ runners: { nodes: RunnerRow[] } }>(
      `query($first: Int, $filter: RunnerFilter) { runners(first: $first, filter: $filter) { nodes {
        id backend { name } name state paused labels os currentJob { id name }
      } } }`,
      { first: integerOption(inv.values, 'limit', { min: 1, max: 100 }) ?? 100, filter },
    );
    return print(inv, data.runners.nodes, ['NAME', 'BACKEND', 'STATE', 'PAUSED', 'LABELS', 'JOB'], (r) => [
      r.name, r.backend.name, r.state, r.paused ? 'paused' : '', r.labels.join(','), r.currentJob?.name ?? '',
    ]);
  }),
};

interface PoolRow {
  key: string; backend: { name: string }; labels: string[]; hosted: boolean;
  runners: { online: number; busy: number; idle: number; paused: number; offline: number; total: number; hostedBusy: number } | null;
  queue: { depth: number; oldestWaitSeconds: number | null };
  waitLastHour: { p50: number | null; p95: number | null; sampleSize: number };
}

export const poolsCommand: Command = {
  name: 'pools',
  summary: 'list runner pools (label sets): runners online/busy/idle/offline and queued jobs',
  options: { backend: BACKEND, queued: { type: 'boolean', help: 'only pools with jobs waiting now' }, json: JSON_OPTION, ...CONNECTION_OPTIONS },
  example: 'switchyard pools --queued',
  run: (inv) => withClient(inv, async (client) => {
    const filter = { backends: listOption(inv.values, 'backend'), ...(booleanOption(inv.values, 'queued') ? { queued: true } : {}) };
    const data = await client.query<{ runnerPools: PoolRow[] }>(
      `query($filter: RunnerPoolFilter) { runnerPools(filter: $filter) {
        key backend { name } labels hosted runners { online busy idle paused offline total hostedBusy }
        queue { depth oldestWaitSeconds } waitLastHour { p50 p95 sampleSize }
      } }`,
      { filter },
    );
    const n = (v: number | undefined) => (v === undefined ? '-' : String(v));
    return print(inv, data.runnerPools, ['BACKEND', 'LABELS', 'ONLINE', 'BUSY', 'IDLE', 'OFFLINE', 'QUEUED', 'OLDEST WAIT', 'WAIT P95 (1H)'], (p) => [
      p.backend.name, p.labels.join(',') || '(none)', n(p.runners?.online), n(p.hosted ? p.runners?.hostedBusy : p.runners?.busy), n(p.runners?.idle),
      n(p.runners?.offline), String(p.queue.depth), duration(p.queue.oldestWaitSeconds), duration(p.waitLastHour.p95),
    ]);
  }),
};

interface StatsGroup { key: { backend: string | null; project: string | null }; count: number; successRate: number; failedCount: number; duration: { p50: number | null; p95: number | null } }
interface TtgSeries { backend: string; project: string; branch: string | null; meanMs: number | null; p50Ms: number | null; ongoing: { startedAt: string; durationMs: number } | null }

export const statsCommand: Command = {
  name: 'stats',
  summary: 'per-project analytics from the history: success rate, p95 duration, time to green',
  description: 'Needs the gateway\'s history (README "Analytics"); without it the gateway answers ANALYTICS_UNAVAILABLE.',
  options: {
    backend: BACKEND, project: { ...PROJECT, help: 'only these projects (full names)' }, branch: { ...BRANCH, help: 'only this branch (time to green: default the project\'s default branch)' },
    days: { type: 'string', placeholder: '<n>', help: 'the window: the last n days (default 14, at most 400)' },
    json: JSON_OPTION, ...CONNECTION_OPTIONS,
  },
  example: 'switchyard stats --days 30 --backend github-main',
  run: (inv) => withClient(inv, async (client) => {
    const branch = stringOption(inv.values, 'branch');
    const filter = { backends: listOption(inv.values, 'backend'), projects: listOption(inv.values, 'project'), branches: branch ? [branch] : undefined };
    const window = { lastDays: integerOption(inv.values, 'days', { min: 1, max: 400 }) ?? 14 };
    const data = await client.query<{ pipelineStats: { groups: StatsGroup[] }; timeToGreen: { series: TtgSeries[] } }>(
      `query($window: AnalyticsWindowInput, $filter: AnalyticsFilter) {
        pipelineStats(window: $window, groupBy: [PROJECT], filter: $filter) { groups { key { backend project } count successRate failedCount duration { p50 p95 } } }
        timeToGreen(window: $window, filter: $filter) { series { backend project branch meanMs p50Ms ongoing { startedAt durationMs } } }
      }`,
      { window, filter },
    );
    const rows = data.pipelineStats.groups.map((g) => {
      const series = data.timeToGreen.series.filter((s) => s.backend === g.key.backend && s.project === g.key.project);
      const main = series.find((s) => s.meanMs !== null);
      return {
        backend: g.key.backend, project: g.key.project, pipelines: g.count, successRate: g.successRate, failed: g.failedCount,
        p50DurationMs: g.duration.p50, p95DurationMs: g.duration.p95,
        timeToGreen: main ? { branch: main.branch, meanMs: main.meanMs, p50Ms: main.p50Ms } : null,
        redSince: series.find((s) => s.ongoing)?.ongoing?.startedAt ?? null,
      };
    });
    const ms = (v: number | null | undefined) => duration(v == null ? null : v / 1000);
    return print(inv, rows, ['PROJECT', 'BACKEND', 'PIPELINES', 'SUCCESS', 'P95 DURATION', 'TIME TO GREEN', 'RED FOR'], (r) => [
      r.project ?? '', r.backend ?? '', String(r.pipelines), `${(r.successRate * 100).toFixed(1)}%`, ms(r.p95DurationMs),
      r.timeToGreen ? `${ms(r.timeToGreen.meanMs)}${r.timeToGreen.branch ? ` (${r.timeToGreen.branch})` : ''}` : '', r.redSince ? since(r.redSince).replace(' ago', '') : '',
    ]);
  }),
};
