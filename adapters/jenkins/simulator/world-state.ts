/**
 * The state of the simulated Jenkins: the item tree, the computers and the
 * queue, the clock (synthetic while history is seeded) and the random
 * source, and the read-only queries the HTTP layer and the transitions share.
 * What Jenkins does on its own lives in world-lifecycle.ts, what users do in
 * world.ts.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { isJob, sortedChildren, type AgentSpec, type SimComputer, type SimContainer, type SimItem, type SimJob, type SimQueueItem, type SimRoot } from './world-entities.ts';
import { seedComputers, seedDefaultTree, seedScaledTree } from './world-seed.ts';

export interface WorldOptions {
  now: () => Date;
  random: Random;
  agents: readonly AgentSpec[];
  jobs: 'default' | number;
}

export class WorldState {
  readonly root: SimRoot = { kind: 'root', children: new Map() };
  readonly computers: SimComputer[] = [];
  /** Queue items by id, including LeftItems until they expire. */
  readonly queue = new Map<number, SimQueueItem>();
  /** Bumped on every change. */
  version = 0;
  /** While seeding history, time is synthetic. */
  protected fakeNow: number | null = null;
  protected readonly random: Random;
  protected readonly now: () => Date;

  constructor(options: WorldOptions) {
    this.random = options.random;
    this.now = options.now;
    this.computers.push(...seedComputers(options.agents));
    if (options.jobs === 'default') seedDefaultTree(this.root);
    else seedScaledTree(this.root, options.jobs);
  }

  time(): number {
    return this.fakeNow ?? this.now().getTime();
  }

  /** Every job, depth first, in Jenkins' (case-insensitive name) order. */
  allJobs(): SimJob[] {
    const out: SimJob[] = [];
    const walk = (c: SimContainer): void => {
      for (const item of sortedChildren(c)) {
        if (isJob(item)) out.push(item);
        else walk(item);
      }
    };
    walk(this.root);
    return out;
  }

  /** Resolves a full name such as `team-a/service` or `monorepo/feature%2Fx`. */
  find(full: string): SimItem | undefined {
    const parts = full.split('/').filter(Boolean);
    let cur: SimContainer = this.root;
    let item: SimItem | undefined;
    for (const [i, part] of parts.entries()) {
      item = cur.children.get(part);
      if (!item) return undefined;
      if (!isJob(item)) cur = item;
      else if (i !== parts.length - 1) return undefined;
    }
    return item;
  }

  findJob(full: string): SimJob {
    const item = this.find(full);
    if (!item || !isJob(item)) throw new Error(`unknown job ${full}`);
    return item;
  }

  computer(name: string): SimComputer | undefined {
    return this.computers.find((c) => c.name === name);
  }
}
