/**
 * The simulators' seeded past (issue 13): how long creating each simulator
 * takes with `pastDays` 0 / 7 / 30 (median of several runs, in-process, no
 * HTTP), and how big the past is (pipelines/builds and jobs per backend), so
 * demo start-up and a backfill of it stay cheap.
 *   npx tsx bench/sim-past.ts [runs]
 */
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { createGitlabSimulator } from '../adapters/gitlab/simulator/index.ts';
import { createJenkinsSimulator } from '../adapters/jenkins/simulator/index.ts';

const runs = Number(process.argv[2] ?? 7);

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

function time(create: () => { pipelines: number; jobs: number }): { ms: number; pipelines: number; jobs: number } {
  const ms: number[] = [];
  let size = { pipelines: 0, jobs: 0 };
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    size = create();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), ...size };
}

const rows: string[] = [];
for (const pastDays of [0, 7, 30]) {
  const gh = time(() => {
    const s = createGithubSimulator({ seed: 1, pastDays, history: 6 });
    return { pipelines: s.world.runs().length, jobs: s.world.jobs().length };
  });
  const gl = time(() => {
    const s = createGitlabSimulator({ seed: 1, pastDays, history: 6 });
    return { pipelines: s.world.pipelines().length, jobs: s.world.jobs().length };
  });
  const jk = time(() => {
    const s = createJenkinsSimulator({ seed: 1, pastDays, history: 4 });
    return { pipelines: s.world.builds().length, jobs: s.world.builds().reduce((n, b) => n + Math.max(1, b.stages.length), 0) };
  });
  for (const [name, r] of [['github', gh], ['gitlab', gl], ['jenkins', jk]] as const) {
    rows.push(`${name.padEnd(8)} pastDays=${String(pastDays).padStart(2)}  create ${r.ms.toFixed(1).padStart(7)} ms  pipelines ${String(r.pipelines).padStart(5)}  jobs ${String(r.jobs).padStart(6)}`);
  }
}
console.log(rows.join('\n'));
