/**
 * Backfill economy (issue 13): upstream requests per 1,000 imported pipelines with their
 * jobs, per provider, next to the minimum its API allows. Each provider's simulator gets
 * a seeded past (a fixed clock), a gateway backfills it into PostgreSQL at 127.0.0.1:5432
 * (a schema of its own, dropped after) with no budget in the way, and the simulator's
 * request log is counted.
 *   npx tsx bench/backfill-economy.ts
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { createGitlabSimulator } from '../adapters/gitlab/simulator/index.ts';
import { createJenkinsSimulator } from '../adapters/jenkins/simulator/index.ts';
import { adapterFactories } from '../src/adapters.ts';
import { validateConfig } from '../src/config/load-config.ts';
import { createGateway } from '../src/server/create-gateway.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const now = () => new Date(NOW);

interface Outcome {
  readonly provider: string;
  readonly pipelines: number;
  readonly jobs: number;
  readonly requests: number;
  readonly byKind: Record<string, number>;
  readonly minimum: number;
  readonly why: string;
}

async function backfill(backend: Record<string, unknown>, days: number): Promise<{ pipelines: number; jobs: number; seconds: number }> {
  const schema = `backfill_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const config = validateConfig({
    logLevel: 'silent', server: { port: 0, host: '127.0.0.1' }, auth: { mode: 'open' }, audit: { file: null },
    history: { url: { value: url }, backfill: { days, requestsPerMinute: 100_000 } },
    backends: [backend],
  }, adapterFactories, 'bench');
  const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false, now });
  const t0 = performance.now();
  try {
    await gateway.listen(0, '127.0.0.1');
    for (;;) {
      const sync = gateway.history.sync(String(backend.name));
      if (sync?.state === 'DONE' || sync?.state === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const { rows: [counts] } = await admin.query<{ pipelines: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM ${schema}.pipelines) AS pipelines, (SELECT count(*)::int FROM ${schema}.jobs) AS jobs`,
    );
    return { ...counts!, seconds };
  } finally {
    await gateway.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

function kinds(paths: readonly string[], rules: readonly [string, RegExp][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const path of paths) {
    const kind = rules.find(([, re]) => re.test(path))?.[0] ?? 'other';
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

async function github(): Promise<Outcome> {
  const sim = createGithubSimulator({ token: 'ghp_bench', seed: 3, repositories: ['api', 'web', 'infra'], history: 350, now });
  await sim.start();
  try {
    const r = await backfill({ name: 'gh', provider: 'github', url: sim.url, token: { value: 'ghp_bench' }, organizations: ['octo-org'] }, 4);
    const paths = sim.requests.map((x) => x.path);
    const perRepo = ['api', 'web', 'infra'].map((repo) => sim.world.runs(repo).filter((run) => Date.parse(run.createdAt) >= NOW - 4 * 86_400_000).length);
    return {
      provider: 'GitHub', ...r, requests: paths.length,
      byKind: kinds(paths, [['repos', /^\/orgs\/[^/]+\/repos/], ['run pages', /\/actions\/runs\?/], ['jobs', /\/runs\/\d+\/jobs/]]),
      minimum: 1 + perRepo.reduce((n, runs) => n + Math.ceil(runs / 100), 0) + r.pipelines,
      why: '1 repos listing + ceil(runs/100) run pages per repo + 1 jobs page per run (a run\'s jobs never come with it)',
    };
  } finally {
    await sim.stop();
  }
}

/**
 * GitLab over the `history` seed (no retries), and over the realistic past (pastDays), whose
 * flaky jobs are retried: every attempt is imported (include_retried) at no request more.
 */
async function gitlab(label: string, seeded: { history: number } | { history: 0; pastDays: number }, days: number): Promise<Outcome> {
  const sim = createGitlabSimulator({ token: 'glpat-bench-token-0123456789', seed: 3, ...seeded, now });
  await sim.start();
  try {
    const r = await backfill({ name: 'gl', provider: 'gitlab', url: sim.url, token: { value: 'glpat-bench-token-0123456789' }, groups: [sim.world.group] }, days);
    const paths = sim.requests.map((x) => x.path);
    const since = NOW - days * 86_400_000;
    let minimum = 1;
    let retried = 0;
    for (const project of sim.world.projects()) {
      const pipelines = sim.world.pipelines(project.path).filter((p) => p.parent === null && Date.parse(p.createdAt) >= since);
      const jobs = pipelines.reduce((n, p) => n + sim.world.jobs(p.id).length, 0);
      retried += pipelines.reduce((n, p) => n + sim.world.jobs(p.id).filter((j) => j.retried).length, 0);
      minimum += Math.ceil(pipelines.length / 100) + Math.ceil(jobs / 100) + pipelines.length;
    }
    return {
      provider: `${label} (${retried} retried jobs in the window)`, ...r, requests: paths.length,
      byKind: kinds(paths, [['projects', /\/groups\/[^/]+\/projects/], ['pipeline pages', /\/pipelines\?/], ['project jobs (keyset)', /\/projects\/[^/]+\/jobs\?/], ['pipeline jobs', /\/pipelines\/\d+\/jobs/], ['bridges', /\/bridges/]]),
      minimum,
      why: '1 projects listing + ceil(pipelines/100) pages + ceil(jobs/100) pages of the project\'s jobs listing (if read from its start) + 1 bridges read per pipeline (bridges: true)',
    };
  } finally {
    await sim.stop();
  }
}

async function jenkins(): Promise<Outcome> {
  const sim = createJenkinsSimulator({ user: 'bench', apiToken: 'jenkins-bench-token', seed: 3, history: 120, now });
  await sim.start();
  try {
    const days = 4;
    const r = await backfill({ name: 'jk', provider: 'jenkins', url: sim.url, user: 'bench', apiToken: { value: 'jenkins-bench-token' }, requestsPerMinute: 100_000 }, days);
    const paths = sim.requests.map((x) => decodeURIComponent(x.path));
    const since = NOW - days * 86_400_000;
    let minimum = 1;
    for (const job of sim.world.jobs()) {
      const builds = job.builds.filter((b) => b.timestamp >= since);
      if (builds.length === 0) continue;
      // allBuilds pages; the stage view answers the newest 10 runs in one read and each older one alone.
      minimum += Math.ceil(builds.length / 100) + (job.kind === 'pipeline' ? 1 + Math.max(0, builds.length - 10) : 0);
    }
    return {
      provider: 'Jenkins', ...r, requests: paths.length,
      byKind: kinds(paths, [['job tree', /^\/api\/json/], ['build ranges', /\/api\/json\?tree=_class,(allBuilds|builds)\[/], ['stage view runs', /\/wfapi\/runs/], ['describe', /\/wfapi\/describe/], ['single build', /\/\d+\/api\/json/]]),
      minimum,
      why: '1 job tree + ceil(builds/100) allBuilds pages per job + per Pipeline job 1 wfapi/runs (newest 10) + 1 wfapi/describe per older build (the stage view has no offset); freestyle builds need nothing more',
    };
  } finally {
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const runs = [github, () => gitlab('GitLab', { history: 300 }, 3), () => gitlab('GitLab, 7-day past', { history: 0, pastDays: 7 }, 7), jenkins];
  for (const run of runs) {
    const o = await run();
    const per1000 = (n: number) => Math.round((n / o.pipelines) * 1000);
    console.log(`${o.provider}: ${o.pipelines} pipelines, ${o.jobs} jobs imported in ${o.requests} requests = ${per1000(o.requests)} per 1,000 pipelines; minimum ${o.minimum} = ${per1000(o.minimum)} per 1,000 (${(o.requests / o.minimum).toFixed(2)}x)`);
    console.log(`  requests: ${JSON.stringify(o.byKind)}`);
    console.log(`  minimum: ${o.why}`);
  }
}

await main();
