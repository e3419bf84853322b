/**
 * Realistic traffic for demo mode: random runs on push / pull_request /
 * schedule, jobs that wait for busy self-hosted runners or run on GitHub-hosted ones, mostly-green outcomes with the
 * odd failure or cancellation, and runners that occasionally drop off and
 * come back. One transition per tick so a viewer can follow along.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { SimAutoplay, type AutoplaySink } from '../../../sim-kit/sim-autoplay.ts';
import type { JobOutcome, JobSpec, RunSpec, WorldEvent } from './world-entities.ts';
import type { ActionWorld } from './world-actions.ts';

const LINUX = ['self-hosted', 'Linux'];
const LINUX_X64 = ['self-hosted', 'Linux', 'X64'];
const LINUX_ARM = ['self-hosted', 'Linux', 'ARM64'];
const MACOS = ['self-hosted', 'macOS'];
/** Runs on a GitHub-hosted VM (runner_group_name "GitHub Actions"), listed by no runner endpoint. */
const HOSTED = ['ubuntu-latest'];

function outcome(random: Random): JobOutcome {
  const x = random.next();
  return x < 0.84 ? 'success' : x < 0.94 ? 'failure' : x < 0.97 ? 'cancelled' : 'skipped';
}

/** A plausible run for `repo`. `allowMacos` off keeps history free of jobs nobody can run. */
export function randomRunSpec(random: Random, repo: string, opts: { allowMacos?: boolean } = {}): RunSpec {
  const kind = random.next();
  if (kind < 0.7) {
    const event = random.chance(0.5) ? 'push' : 'pull_request';
    const jobs: JobSpec[] = [
      { name: 'lint', labels: HOSTED, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run actions/setup-node@v4', 'Run npm ci', 'Run npm run lint'] },
      { name: 'test', labels: LINUX_X64, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run actions/setup-node@v4', 'Run npm ci', 'Run npm test'] },
    ];
    if (random.chance(0.4)) {
      jobs.push({ name: 'test (arm64)', labels: LINUX_ARM, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run npm ci', 'Run npm test'] });
    }
    if (opts.allowMacos && random.chance(0.15)) {
      jobs.push({ name: 'e2e (macos)', labels: MACOS, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run npm ci', 'Run npm run e2e'] });
    }
    jobs.push({ name: 'build', labels: LINUX, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run docker build .', 'Run docker push'] });
    return { repo, workflow: 'CI', event, jobs };
  }
  if (kind < 0.85) {
    return {
      repo,
      workflow: 'Deploy',
      event: random.chance(0.7) ? 'push' : 'workflow_dispatch',
      branch: 'main',
      jobs: [{ name: 'deploy', labels: LINUX_X64, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run ./scripts/deploy.sh', 'Run ./scripts/smoke-test.sh'] }],
    };
  }
  return {
    repo,
    workflow: 'Nightly',
    event: 'schedule',
    branch: 'main',
    jobs: [
      { name: 'integration', labels: LINUX_X64, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run docker compose up -d', 'Run npm run test:integration'] },
      { name: 'audit', labels: HOSTED, outcome: outcome(random), steps: ['Run actions/checkout@v4', 'Run npm audit --audit-level=high'] },
    ],
  };
}

export interface AutoplayHost extends AutoplaySink<WorldEvent> {
  readonly world: ActionWorld;
  readonly random: Random;
}

export class Autoplay extends SimAutoplay<WorldEvent> {
  constructor(private readonly host: AutoplayHost) {
    super(host);
  }

  protected choose(): WorldEvent[] {
    const { world, random } = this.host;
    // A cancel asked for through the API is carried out first.
    const cancelling = world.cancelling()[0];
    if (cancelling) return world.finishCancel(cancelling);
    const active = [...world.runs.values()].filter((r) => r.status !== 'completed').length;
    if (active < 2 || (active < 6 && random.chance(0.12))) return this.newRun();
    if (random.chance(0.04) && this.flipRunner()) return [];
    const starts = world.startable();
    const moving = world.advanceable();
    const options = starts.length + moving.length;
    if (options === 0) return this.newRun();
    const i = random.int(0, options - 1);
    const start = starts[i];
    if (start) return world.startJob(start.job, start.runner);
    const job = moving[i - starts.length];
    return job ? world.advanceJob(job) : [];
  }

  private newRun(): WorldEvent[] {
    const { world, random } = this.host;
    world.prune(200);
    const repo = random.pick(world.repos).name;
    return world.createRun(randomRunSpec(random, repo, { allowMacos: true })).events;
  }

  /**
   * Brings back an offline runner that queued jobs are waiting for, or now
   * and then takes an idle one offline, so the runner view is not static.
   */
  private flipRunner(): boolean {
    const { world, random } = this.host;
    const waiting = [...world.jobs.values()].filter((j) => j.status === 'queued');
    const rescuer = world.runners.find((r) => r.status === 'offline' && waiting.some((j) => {
      const have = new Set(r.labels.map((l) => l.name.toLowerCase()));
      return (r.scope === 'org' || r.scope.repo === j.repo) && j.labels.every((l) => have.has(l.toLowerCase()));
    }));
    if (rescuer) {
      world.setRunnerStatus(rescuer, 'online');
      return true;
    }
    const online = world.runners.filter((r) => r.status === 'online');
    const idle = online.filter((r) => r.jobId === null);
    if (online.length > 2 && idle.length > 0 && random.chance(0.3)) {
      world.setRunnerStatus(random.pick(idle), 'offline');
      return true;
    }
    return false;
  }
}
