/**
 * Realistic traffic for demo mode: builds on main and feature branches
 * (mostly green, the odd hard failure, timeout or lost agent), block steps a
 * person answers after a while, failed jobs retried now and then, a lost
 * agent that comes back, and an idle agent that disconnects and reconnects.
 * Every tick moves each live build one step, so a viewer can follow along.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { SimAutoplay, type AutoplaySink } from '../../../sim-kit/sim-autoplay.ts';
import type { JobOutcome, WorldEvent } from './world-entities.ts';
import { currentJobs } from './world-lifecycle.ts';
import { ACTORS, FEATURE_BRANCHES } from './world-seed.ts';
import type { World } from './world.ts';

export interface AutoplayHost extends AutoplaySink<WorldEvent> {
  readonly world: World;
  readonly random: Random;
  /** Builds kept per pipeline (older finished ones are pruned). */
  readonly keepBuilds: number;
}

function outcome(random: Random): JobOutcome {
  const x = random.next();
  return x < 0.86 ? 'passed' : x < 0.96 ? 'failed' : x < 0.985 ? 'timed_out' : 'lost';
}

export class Autoplay extends SimAutoplay<WorldEvent> {
  /** Builds autoplay created: it answers only their block steps, so work seeded for a person keeps waiting. */
  private readonly own = new Set<string>();

  constructor(private readonly host: AutoplayHost) {
    super(host);
  }

  /** Now and then a person or the fleet acts; then every live build moves one step (a build takes half a minute). */
  protected choose(): WorldEvent[] {
    const { world, random } = this.host;
    const events: WorldEvent[] = [];
    const live = world.liveBuilds();
    if (live.length < 2 || (live.length < 6 && random.chance(0.12))) events.push(...this.newBuild());
    if (random.chance(0.03)) events.push(...this.agents());
    const blocked = world.allBuilds().find((b) => b.blocked && this.own.has(b.id));
    if (blocked && random.chance(0.1)) {
      const job = currentJobs(blocked).find((j) => j.state === 'blocked');
      if (job) events.push(...world.unblock(blocked, job, random.pick(ACTORS), { notes: 'Ship it' }));
    }
    const failed = world.allBuilds().slice(0, 10).find((b) => b.state === 'failed' && this.own.has(b.id));
    if (failed && random.chance(0.04)) {
      const job = currentJobs(failed).find((j) => j.state === 'failed' && j.type === 'script' && !j.softFailed);
      if (job) events.push(...world.retry(failed, job, random.pick(ACTORS), 'passed').events);
    }
    events.push(...world.stepAll());
    return events;
  }

  private newBuild(): WorldEvent[] {
    const { world, random } = this.host;
    world.prune(this.host.keepBuilds);
    const pipeline = random.pick(world.pipelines.filter((p) => p.slug !== 'api' || random.chance(0.5)));
    const feature = random.chance(0.4);
    const outcomes: Record<string, JobOutcome> = {};
    for (const s of pipeline.steps) if (s.type === 'command' && !s.softFail) outcomes[s.key] = outcome(random);
    const made = world.createBuild(pipeline, {
      branch: feature ? random.pick(FEATURE_BRANCHES) : pipeline.defaultBranch,
      source: feature ? 'webhook' : random.pick(['webhook', 'webhook', 'ui', 'schedule'] as const),
      outcomes,
    });
    this.own.add(made.build.id);
    return made.events;
  }

  /** A lost or disconnected agent comes back; now and then an idle one disconnects. */
  private agents(): WorldEvent[] {
    const { world, random } = this.host;
    const away = world.agents.find((a) => a.connectionState === 'lost' || a.connectionState === 'disconnected' || a.connectionState === 'stopped');
    if (away && random.chance(0.6)) return world.connectAgent(away.name);
    const idle = world.agents.filter((a) => a.connectionState === 'connected' && a.jobId === null && a.metaData.includes('queue=default'));
    if (idle.length > 2) return world.stopAgent(random.pick(idle).name);
    return [];
  }
}
