/**
 * The simulated Jenkins world: folders, multibranch projects, freestyle and
 * Pipeline jobs, builds with Pipeline stages, the build queue and agents with
 * executors, plus the transitions that move them. Pure state; it knows nothing
 * about HTTP. Transitions return the Notification-plugin phases they cause.
 *
 * Split by concern: world-entities.ts (types and Jenkins' naming and label
 * rules), world-seed.ts (seed data), world-state.ts (state and queries),
 * world-lifecycle.ts (what Jenkins does on its own); this file holds what
 * users do (trigger, cancel, approve or abort input, stop, take agents
 * offline) and the housekeeping (history, log rotation).
 */
import {
  labelMatches, userCause,
  type BuildSpec, type PhaseEvent, type SimBuild, type SimParamValue, type SimJob, type SimQueueItem, type StageOutcome,
} from './world-entities.ts';
import { ACTORS, historySpec } from './world-seed.ts';
import { WorldLifecycle } from './world-lifecycle.ts';

export type { WorldOptions } from './world-state.ts';

export class World extends WorldLifecycle {
  private nextQueueId = 1;

  // ---- the queue --------------------------------------------------------------------------

  /** A queue id for a seeded past build (queue ids grow over time; the past comes first). */
  allocateQueueId(): number {
    return this.nextQueueId++;
  }

  enqueue(job: SimJob, spec: BuildSpec): SimQueueItem {
    const now = this.time();
    const causes = spec.causes ?? [userCause(this.random.pick(ACTORS))];
    const item: SimQueueItem = {
      id: this.nextQueueId++,
      job,
      spec,
      causes,
      inQueueSince: now,
      buildableStart: now,
      state: 'buildable',
      why: null,
      leftAt: null,
      build: null,
      cancelled: false,
    };
    this.queue.set(item.id, item);
    this.refreshQueue();
    this.version++;
    return item;
  }
  cancel(id: number): boolean {
    const q = this.queue.get(id);
    if (!q || q.state === 'left') return false;
    q.state = 'left';
    q.cancelled = true;
    q.leftAt = this.time();
    q.why = null;
    this.version++;
    return true;
  }
  /** Proceeds the pending input of a build (recording who answered and with what); false if it has none. */
  approve(build: SimBuild, answer: { approver: string | null; params: readonly SimParamValue[] } = { approver: null, params: [] }): boolean {
    const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
    if (!stage) return false;
    stage.inputAnswer = answer;
    const now = this.time();
    stage.status = 'IN_PROGRESS';
    if (stage.pauseStart !== null) stage.pauseMs += now - stage.pauseStart;
    stage.pauseStart = null;
    const waiting = stage.steps[stage.steps.length - 1];
    if (waiting) waiting.status = 'IN_PROGRESS';
    stage.inputId = null;
    build.lastTouched = this.touch++;
    this.version++;
    return true;
  }

  /** Aborts a pending input (as the `abort` link does): the stage and build end ABORTED. */
  abortInput(build: SimBuild): PhaseEvent[] {
    const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
    if (!stage) return [];
    const now = this.time();
    if (stage.pauseStart !== null) stage.pauseMs += now - stage.pauseStart;
    stage.pauseStart = null;
    stage.inputId = null;
    stage.status = 'IN_PROGRESS';
    (stage as { outcome: StageOutcome }).outcome = 'ABORTED';
    this.completeStage(build, stage, now);
    this.version++;
    return [];
  }

  /**
   * POST .../stop (Executor interrupt): aborts a running build at once, unless a step ignores
   * interrupts. A finished build is left alone (Jenkins redirects and does nothing).
   */
  stop(build: SimBuild): PhaseEvent[] {
    if (!build.building || build.ignoresInterrupts) return [];
    return this.abortBuild(build);
  }

  /** POST .../term (WorkflowRun.doTerm): fails every running step with FlowInterruptedException. */
  term(build: SimBuild): PhaseEvent[] {
    if (!build.building || build.ignoresInterrupts === 'stop+term') return [];
    return this.abortBuild(build);
  }

  /** POST .../kill (WorkflowRun.doKill): the hard kill; always ends a running build ABORTED. */
  kill(build: SimBuild): PhaseEvent[] {
    if (!build.building) return [];
    return this.abortBuild(build);
  }

  private abortBuild(build: SimBuild): PhaseEvent[] {
    const now = this.time();
    for (const s of build.stages) {
      if (s.status === 'IN_PROGRESS' || s.status === 'PAUSED_PENDING_INPUT') {
        if (s.pauseStart !== null) s.pauseMs += now - s.pauseStart;
        s.pauseStart = null;
        s.inputId = null;
        s.status = 'IN_PROGRESS';
        (s as { outcome: StageOutcome }).outcome = 'ABORTED';
        this.completeStage(build, s, now);
      }
    }
    return this.finish(build, 'ABORTED');
  }

  setAgent(name: string, s: { offline?: boolean; temporarilyOffline?: boolean }): void {
    const c = this.computer(name);
    if (!c) throw new Error(`unknown agent ${name}`);
    if (c.builtIn && s.offline) throw new Error('the built-in node cannot go offline');
    if (s.offline !== undefined) c.channelDown = s.offline;
    if (s.temporarilyOffline !== undefined) {
      c.temporarilyOffline = s.temporarilyOffline;
      c.offlineMessage = s.temporarilyOffline ? 'Maintenance' : null;
    }
    this.version++;
    this.refreshQueue();
  }

  /** Keeps at most `keep` builds per job (log rotation), never dropping running ones. */
  prune(keep: number): void {
    for (const job of this.allJobs()) {
      while (job.builds.length > keep && job.builds[0] && !job.builds[0].building) job.builds.shift();
    }
  }

  // ---- history ----------------------------------------------------------------------------

  /** Completed builds per job, back-dated, run through the ordinary transitions on a synthetic clock. */
  seedHistory(perJob: number): void {
    if (perJob <= 0) return;
    // Jobs the seeded past already built keep that history (build numbers stay in time order).
    const jobs = this.allJobs().filter((j) => j.builds.length === 0);
    const end = this.now().getTime();
    let t = end - perJob * 3_600_000 - 600_000;
    for (let round = 0; round < perJob; round++) {
      for (const job of jobs) {
        this.fakeNow = t + this.random.int(0, 600_000);
        const spec = historySpec(this.random, job);
        const item = this.enqueue(job, spec);
        const computer = this.computers.find((c) => labelMatches(job.label, c) && c.numExecutors > 0)
          ?? this.computers.find((c) => c.numExecutors > 0);
        if (!computer) throw new Error('no computer with executors for history');
        this.fakeNow += this.random.int(1_000, 20_000);
        const slot = computer.executors.indexOf(null);
        const build = this.startOn(item, computer, slot >= 0 ? slot : 0, true);
        for (let guard = 0; build.building && guard < 500; guard++) {
          this.fakeNow += this.random.int(2_000, 40_000);
          const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
          if (stage) this.approve(build);
          else this.advance(build);
        }
      }
      t += 3_600_000;
    }
    this.fakeNow = null;
    // LeftItems of seeded builds are long gone.
    for (const [id, q] of this.queue) if (q.state === 'left') this.queue.delete(id);
  }
}
