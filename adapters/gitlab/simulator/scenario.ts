/**
 * Realistic traffic for demo mode: build/test/deploy pipelines on push, merge
 * requests and schedules, allowed-to-fail lint jobs, manual and delayed
 * deploys behind a resource group, the odd child pipeline, retries of failed
 * jobs, and runners that pause or drop off now and then. One transition per tick.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { SimAutoplay, type AutoplaySink } from '../../../sim-kit/sim-autoplay.ts';
import { COMPLETED, type JobOutcome, type JobSpec, type PipelineSpec, type WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';

function outcome(random: Random): JobOutcome {
  const x = random.next();
  return x < 0.86 ? 'success' : x < 0.96 ? 'failed' : 'canceled';
}

/** A plausible pipeline. `history` keeps to jobs that finish without a human (no manual/delayed/blocked jobs). */
export function randomPipelineSpec(random: Random, project: string, opts: { history?: boolean } = {}): PipelineSpec {
  const kind = random.next();
  const source = kind < 0.55 ? 'push' : kind < 0.8 ? 'merge_request_event' : kind < 0.9 ? 'web' : 'schedule';
  const jobs: JobSpec[] = [
    { name: 'compile', stage: 'build', tags: ['docker'], outcome: random.chance(0.95) ? 'success' : 'failed' },
    { name: 'lint', stage: 'test', tags: ['docker'], outcome: random.chance(0.8) ? 'success' : 'failed', allowFailure: true },
    { name: 'unit', stage: 'test', tags: ['docker', 'linux'], outcome: outcome(random) },
  ];
  if (random.chance(0.3)) jobs.push({ name: 'unit:arm64', stage: 'test', tags: ['arm64'], outcome: outcome(random) });
  if (!opts.history && random.chance(0.1)) jobs.push({ name: 'e2e:macos', stage: 'test', tags: ['macos'] });
  const ref = source === 'push' || source === 'schedule' ? 'main' : random.pick(['feature/search', 'fix/timeout', 'renovate/node-22.x']);
  if (ref === 'main' && source !== 'schedule') {
    const when = opts.history ? 'on_success' : random.pick(['on_success', 'manual', 'delayed'] as const);
    jobs.push({
      name: 'deploy:production',
      stage: 'deploy',
      tags: ['docker'],
      when,
      ...(when === 'manual' ? { allowFailure: false } : {}),
      resourceGroup: true,
      environment: 'production',
      outcome: random.chance(0.95) ? 'success' : 'failed',
    });
  }
  const downstream = !opts.history && random.chance(0.12);
  return { project, ref, source, jobs, ...(downstream ? { downstream: true } : {}) };
}

export interface AutoplayHost extends AutoplaySink<WorldEvent> {
  readonly world: World;
  readonly random: Random;
}

export class Autoplay extends SimAutoplay<WorldEvent> {
  constructor(private readonly host: AutoplayHost) {
    super(host);
  }

  protected choose(): WorldEvent[] {
    const { world, random } = this.host;
    const active = [...world.pipelines.values()].filter((p) => p.parent === null && !COMPLETED.has(p.status)).length;
    if (active < 2 || (active < 6 && random.chance(0.1))) return this.newPipeline();
    if (random.chance(0.04) && this.flipRunner()) return [];
    const jobs = [...world.jobs.values()].filter((j) => !j.retried);
    // Blocking manual jobs get played; optional ones and deployments awaiting approval wait for a person.
    const manual = jobs.filter((j) => j.status === 'manual' && !j.allowFailure && world.playable(j));
    if (manual.length > 0 && random.chance(0.15)) return world.playJob(random.pick(manual));
    const failed = jobs.filter((j) => j.status === 'failed' && j.kind === 'build' && !j.allowFailure && j.retriesCount === 0);
    if (failed.length > 0 && random.chance(0.01)) return world.retryJob(random.pick(failed), 'success').events;
    const running = jobs.filter((j) => j.status === 'running' && j.kind === 'build');
    if (running.length > 0 && random.chance(0.01)) return world.cancelJob(random.pick(running));
    const options = world.transitions();
    if (options.length === 0) return this.newPipeline();
    return world.apply(random.pick(options));
  }

  private newPipeline(): WorldEvent[] {
    const { world, random } = this.host;
    world.prune(200);
    const project = random.pick(world.projects).path;
    return world.createPipeline(randomPipelineSpec(random, project)).events;
  }

  /** Brings back a runner pending jobs need, or now and then pauses / takes offline an idle one. */
  private flipRunner(): boolean {
    const { world, random } = this.host;
    const pending = [...world.jobs.values()].filter((j) => j.status === 'pending' && j.kind === 'build');
    const rescuer = world.runners.find((r) => (!r.online || r.paused) && !r.neverContacted && pending.some((j) => {
      const copy = { ...r, online: true, paused: false, stale: false };
      return world.canRun(copy, j);
    }));
    if (rescuer) {
      world.setRunnerStatus(rescuer, { online: true, paused: false });
      return true;
    }
    const idle = world.runners.filter((r) => r.online && !r.paused && r.jobIds.size === 0);
    if (idle.length > 2 && random.chance(0.3)) {
      const r = random.pick(idle);
      world.setRunnerStatus(r, random.chance(0.5) ? { paused: true } : { online: false });
      return true;
    }
    return false;
  }
}
