/**
 * Realistic traffic for demo mode: builds triggered by SCM changes, timers and
 * users; stages that pass, fail, go unstable or wait for approval; a queue
 * that backs up while agents are busy; an agent that drops off and comes back.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { SimAutoplay, type AutoplaySink } from '../../../sim-kit/sim-autoplay.ts';
import {
  BRANCH_CAUSE, SCM_CAUSE, TIMER_CAUSE, userCause,
  type BuildSpec, type PhaseEvent, type SimJob,
} from './world-entities.ts';
import { historySpec } from './world-seed.ts';
import type { World } from './world.ts';

export interface AutoplayHost extends AutoplaySink<PhaseEvent> {
  readonly world: World;
  readonly random: Random;
  /** Log rotation: builds kept per job (default 30). */
  readonly keepBuilds?: number;
  /** How long a build waits at an `input` step before autoplay answers it (default INPUT_WAIT_MS). */
  readonly inputWaitMs?: number;
}

/**
 * A paused build stays paused this long in demo mode: long enough for a GraphiQL user to find
 * it and try `approve` / `reject` (answered within a few seconds, it was gone before they could).
 */
export const INPUT_WAIT_MS = 90_000;

export function randomBuildSpec(random: Random, job: SimJob): BuildSpec {
  const spec = historySpec(random, job);
  const causes = job.parent.kind === 'multibranch'
    ? [BRANCH_CAUSE]
    : [random.pick([SCM_CAUSE, SCM_CAUSE, TIMER_CAUSE, userCause(random.pick(['alice', 'bob', 'carol']))])];
  if (spec.stages && random.chance(0.05)) {
    const last = spec.stages[spec.stages.length - 1];
    if (last && !last.input) last.outcome = 'ABORTED';
  }
  return { ...spec, causes };
}

export class Autoplay extends SimAutoplay<PhaseEvent> {
  constructor(private readonly host: AutoplayHost) {
    super(host);
  }

  protected choose(): PhaseEvent[] {
    const { world, random } = this.host;
    world.refreshQueue();
    const active = world.running().length + world.waiting().length;
    if (active < 2 || (active < 7 && random.chance(0.12))) return this.trigger();
    if (random.chance(0.03) && this.flipAgent()) return [];
    const waitMs = this.host.inputWaitMs ?? INPUT_WAIT_MS;
    const paused = world.running().filter((b) => b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT' && (s.pauseStart === null || world.time() - s.pauseStart >= waitMs)));
    const first = paused[0];
    if (first && random.chance(0.25)) {
      world.approve(first);
      return [];
    }
    const start = world.startNext();
    if (start.length > 0) return start;
    const moving = world.advanceable();
    if (moving.length === 0) return this.trigger();
    return world.advance(random.pick(moving));
  }

  private trigger(): PhaseEvent[] {
    const { world, random } = this.host;
    world.prune(this.host.keepBuilds ?? 30);
    const jobs = world.allJobs();
    // The macOS job only now and then: it waits for an agent that is usually offline.
    const pool = random.chance(0.05) ? jobs : jobs.filter((j) => j.label === null || !j.label.includes('mac'));
    const job = random.pick(pool.length > 0 ? pool : jobs);
    world.enqueue(job, randomBuildSpec(random, job));
    return [];
  }

  /** Brings back an offline agent something waits for, or takes an idle one offline for a while. */
  private flipAgent(): boolean {
    const { world, random } = this.host;
    const offline = world.computers.filter((c) => !c.builtIn && (c.channelDown || c.temporarilyOffline));
    if (offline.length > 0 && random.chance(0.6)) {
      const c = random.pick(offline);
      world.setAgent(c.name, { offline: false, temporarilyOffline: false });
      return true;
    }
    const idle = world.computers.filter((c) => !c.builtIn && !c.channelDown && !c.temporarilyOffline && c.executors.every((e) => e === null));
    if (idle.length > 1) {
      world.setAgent(random.pick(idle).name, { temporarilyOffline: true });
      return true;
    }
    return false;
  }
}
