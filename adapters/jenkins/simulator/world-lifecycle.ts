/**
 * What Jenkins does on its own in the simulated world: keeps the queue's
 * blocked/buildable state and reasons current, hands buildable items to free
 * executors, and steps builds through their Pipeline stages to a result.
 * Transitions return the Notification-plugin phases they cause.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import {
  isOffline, labelMatches,
  type BuildResult, type PhaseEvent, type SimParamDef, type SimParamValue, type SimBuild, type SimComputer, type SimJob, type SimQueueItem, type SimStage, type SimStepNode, type WfStatus,
} from './world-entities.ts';
import { WorldState } from './world-state.ts';

/** Jenkins keeps a LeftItem answerable for five minutes after it left the queue. */
export const LEFT_ITEM_TTL_MS = 5 * 60_000;

export class WorldLifecycle extends WorldState {
  /** Fairness counter: the build advanced least recently goes next. */
  protected touch = 0;

  // ---- the queue --------------------------------------------------------------------------

  /** Items still waiting, in queue order (oldest first). */
  waiting(): SimQueueItem[] {
    return [...this.queue.values()].filter((q) => q.state !== 'left').sort((a, b) => a.id - b.id);
  }

  /** Recomputes blocked/buildable and `why` for every waiting item, and drops expired LeftItems. */
  refreshQueue(): void {
    const now = this.time();
    for (const [id, q] of this.queue) {
      if (q.state === 'left' && q.leftAt !== null && now - q.leftAt > LEFT_ITEM_TTL_MS) this.queue.delete(id);
    }
    for (const q of this.waiting()) {
      const label = labelOf(q);
      const running = q.job.builds.find((b) => b.building);
      if (!q.job.concurrent && running) {
        if (q.state !== 'blocked') q.state = 'blocked';
        q.why = `Build #${running.number} is already in progress${eta(running, now)}`;
        continue;
      }
      if (q.state === 'blocked') {
        q.state = 'buildable';
        q.buildableStart = now;
      }
      const candidates = this.computers.filter((c) => c.numExecutors > 0 && labelMatches(label, c));
      if (label !== null && candidates.length === 0) q.why = `There are no nodes with the label ‘${label}’`;
      else if (label !== null && candidates.every(isOffline)) {
        q.why = candidates.length === 1 ? `‘${candidates[0]?.name}’ is offline` : `All nodes of label ‘${label}’ are offline`;
      } else q.why = label === null ? 'Waiting for next available executor' : `Waiting for next available executor on ‘${label}’`;
    }
  }

  /** Whether a buildable item is stuck (Queue.BuildableItem.isStuck). */
  isStuck(q: SimQueueItem): boolean {
    if (q.state !== 'buildable') return false;
    const label = labelOf(q);
    const candidates = this.computers.filter((c) => c.numExecutors > 0 && labelMatches(label, c));
    if (label !== null && candidates.every(isOffline)) return true;
    const elapsed = this.time() - q.buildableStart;
    const est = estimate(q.job);
    return est >= 0 ? elapsed > Math.max(est, 60_000) * 10 : elapsed > 24 * 3_600_000;
  }

  /** The first buildable item with a free executor on a matching online node. */
  startable(): { item: SimQueueItem; computer: SimComputer; slot: number } | undefined {
    for (const item of this.waiting()) {
      if (item.state !== 'buildable') continue;
      const label = labelOf(item);
      for (const c of this.computers) {
        if (isOffline(c) || !labelMatches(label, c)) continue;
        const slot = c.executors.indexOf(null);
        if (slot >= 0) return { item, computer: c, slot };
      }
    }
    return undefined;
  }

  // ---- builds -----------------------------------------------------------------------------

  /** Takes an item off the queue onto an executor. Returns the build; phases QUEUED and STARTED follow. */
  startOn(item: SimQueueItem, computer: SimComputer, slot: number, history = false): SimBuild {
    const now = this.time();
    const job = item.job;
    const plan = item.spec.stages ?? (job.kind === 'pipeline' ? [...job.stages] : []);
    const build: SimBuild = {
      job,
      number: job.nextBuildNumber++,
      queueId: item.id,
      queuedAt: item.inQueueSince,
      timestamp: now,
      causes: item.causes,
      sha: this.random.hex(40),
      estimatedDuration: estimate(job),
      plan,
      explicitResult: item.spec.result ?? null,
      // Every build of a parameterized job carries a ParametersAction (defaults when the trigger gave none).
      params: item.spec.params ?? (job.params.length > 0 ? defaultParams(job.params) : null),
      ...(item.spec.ignoresInterrupts ? { ignoresInterrupts: item.spec.ignoresInterrupts } : {}),
      computer,
      executorIndex: slot,
      building: true,
      displayName: null,
      result: null,
      duration: 0,
      stages: [],
      nextStage: 0,
      broken: null,
      unstable: false,
      nodeSeq: 2,
      freestyleIdx: 0,
      lastTouched: this.touch++,
    };
    job.builds.push(build);
    if (!history) computer.executors[slot] = build;
    item.state = 'left';
    item.leftAt = now;
    item.why = null;
    item.build = build;
    this.version++;
    this.refreshQueue();
    return build;
  }

  startNext(): PhaseEvent[] {
    const s = this.startable();
    if (!s) return [];
    const build = this.startOn(s.item, s.computer, s.slot);
    return [
      { phase: 'QUEUED', build, at: build.queuedAt },
      { phase: 'STARTED', build, at: build.timestamp },
    ];
  }

  running(): SimBuild[] {
    return this.allJobs().flatMap((j) => j.builds.filter((b) => b.building));
  }

  /** Running builds that can move (not waiting for input), least recently advanced first. */
  advanceable(): SimBuild[] {
    return this.running()
      .filter((b) => !b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT'))
      .sort((a, b) => a.lastTouched - b.lastTouched);
  }

  /** One transition of a running build. */
  advance(build: SimBuild): PhaseEvent[] {
    if (!build.building) return [];
    build.lastTouched = this.touch++;
    this.version++;
    const now = this.time();
    if (build.job.kind === 'freestyle') {
      if (build.freestyleIdx < build.job.freestyleSteps.length) {
        build.freestyleIdx++;
        return [];
      }
      return this.finish(build, build.explicitResult ?? 'SUCCESS');
    }
    const current = build.stages[build.stages.length - 1];
    if (current && (current.status === 'IN_PROGRESS')) {
      const done = current.steps.filter((s) => s.status !== 'IN_PROGRESS').length;
      const open = current.steps.find((s) => s.status === 'IN_PROGRESS');
      if (open && done + 1 < current.plannedSteps.length) {
        open.status = 'SUCCESS';
        open.durationMs = now - open.startMs;
        current.steps.push(this.stepNode(build, current, current.plannedSteps[done + 1] ?? 'Shell Script', now));
        return [];
      }
      this.completeStage(build, current, now);
      return [];
    }
    const spec = build.plan[build.nextStage];
    if (!spec) return this.finish(build, this.pipelineResult(build));
    build.nextStage++;
    const id = String(++build.nodeSeq);
    build.nodeSeq++; // the stage's block body node
    const skipped = build.broken !== null || spec.when === false;
    const inputSpec = spec.input === undefined || spec.input === false ? null : spec.input === true ? {} : spec.input;
    const stage: SimStage = {
      id,
      name: spec.name,
      execNode: build.computer.builtIn ? '' : build.computer.name,
      status: skipped ? 'NOT_EXECUTED' : spec.input ? 'PAUSED_PENDING_INPUT' : 'IN_PROGRESS',
      startMs: now,
      durationMs: skipped ? 0 : null,
      pauseMs: 0,
      pauseStart: spec.input && !skipped ? now : null,
      plannedSteps: spec.input ? ['Wait for interactive input'] : spec.steps?.length ? spec.steps : ['Shell Script'],
      outcome: spec.outcome ?? 'SUCCESS',
      input: inputSpec !== null,
      inputSpec,
      inputId: spec.input && !skipped ? inputIdFor(this.random) : null,
      inputAnswer: null,
      steps: [],
      error: null,
    };
    build.stages.push(stage);
    if (!skipped) {
      stage.steps.push(this.stepNode(build, stage, stage.plannedSteps[0] ?? 'Shell Script', now));
      if (spec.input) {
        const waiting = stage.steps[0];
        if (waiting) waiting.status = 'PAUSED_PENDING_INPUT';
      }
    }
    return [];
  }

  private stepNode(build: SimBuild, stage: SimStage, name: string, now: number): SimStepNode {
    const prev = stage.steps[stage.steps.length - 1];
    return { id: String(++build.nodeSeq), name, parentId: prev ? prev.id : stage.id, status: 'IN_PROGRESS', startMs: now, durationMs: null, error: null };
  }

  protected completeStage(build: SimBuild, stage: SimStage, now: number): void {
    const last = stage.steps[stage.steps.length - 1];
    const status: WfStatus = stage.outcome;
    if (last) {
      last.durationMs = now - last.startMs;
      last.status = status === 'UNSTABLE' ? 'SUCCESS' : status;
      if (status === 'FAILED') last.error = { message: 'script returned exit code 1', type: 'hudson.AbortException' };
      if (status === 'ABORTED') last.error = { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
    }
    stage.status = status;
    stage.durationMs = now - stage.startMs;
    if (status === 'FAILED') {
      stage.error = { message: 'script returned exit code 1', type: 'hudson.AbortException' };
      build.broken ??= 'FAILURE';
    }
    if (status === 'ABORTED') {
      stage.error = { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
      build.broken ??= 'ABORTED';
    }
    if (status === 'UNSTABLE') build.unstable = true;
  }

  private pipelineResult(build: SimBuild): BuildResult {
    if (build.explicitResult) return build.explicitResult;
    if (build.broken) return build.broken;
    return build.unstable ? 'UNSTABLE' : 'SUCCESS';
  }

  protected finish(build: SimBuild, result: BuildResult): PhaseEvent[] {
    const now = this.time();
    build.building = false;
    build.result = result;
    build.duration = Math.max(now - build.timestamp, 0);
    if (build.computer.executors[build.executorIndex] === build) build.computer.executors[build.executorIndex] = null;
    this.version++;
    this.refreshQueue();
    return [
      { phase: 'COMPLETED', build, at: build.timestamp + build.duration },
      { phase: 'FINALIZED', build, at: now },
    ];
  }
}

/** The values a build gets for parameters it was not given: each definition's default. */
export function defaultParams(defs: readonly SimParamDef[]): SimParamValue[] {
  return defs.map((d) => ({
    name: d.name,
    type: d.type,
    value: d.default ?? (d.type === 'boolean' ? false : d.type === 'choice' ? (d.choices?.[0] ?? '') : ''),
  }));
}

function labelOf(q: SimQueueItem): string | null {
  return q.spec.label ?? q.job.label;
}

/** Average duration of the last successful builds, -1 if none (Job.getEstimatedDuration). */
function estimate(job: SimJob): number {
  const done = job.builds.filter((b) => !b.building && (b.result === 'SUCCESS' || b.result === 'UNSTABLE')).slice(-3);
  if (done.length === 0) return -1;
  return Math.round(done.reduce((s, b) => s + b.duration, 0) / done.length);
}

function eta(build: SimBuild, now: number): string {
  if (build.estimatedDuration < 0) return '';
  const left = Math.max(0, build.timestamp + build.estimatedDuration - now);
  return ` (ETA: ${left < 60_000 ? `${Math.round(left / 1000)} sec` : `${Math.round(left / 60_000)} min`})`;
}

function inputIdFor(random: Random): string {
  // InputStep ids are the MD5 of the message, capitalised: e.g. "Ef95dd500ae6ed3b27b89fb852296d12".
  const h = random.hex(32);
  return h.charAt(0).toUpperCase() + h.slice(1);
}
