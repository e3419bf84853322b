/**
 * The state of the simulated Buildkite organization: pipelines, their builds
 * and jobs, agents, the clock (synthetic while history and the past are
 * seeded) and the random source, with the read-only queries the HTTP layer
 * and the transitions share. What Buildkite does on its own lives in
 * world-lifecycle.ts, what users do in world.ts.
 */
import { createHash } from 'node:crypto';
import type { Random } from '../../../sim-kit/seeded-random.ts';
import type { AgentSpec, SimAgent, SimBuild, SimJob, SimPipeline } from './world-entities.ts';
import { DEFAULT_PIPELINES, scaledPipelines, type PipelineSpec } from './world-seed.ts';

export interface WorldOptions {
  readonly now: () => Date;
  readonly random: Random;
  readonly organization: string;
  readonly pipelines: 'default' | number;
  readonly agents: readonly AgentSpec[];
}

/** Buildkite's GraphQL ids are base64 of `Type---uuid`. */
export function graphqlId(type: string, id: string): string {
  return Buffer.from(`${type}---${id}`).toString('base64');
}

export class WorldState {
  readonly organization: string;
  readonly pipelines: SimPipeline[] = [];
  /** Builds per pipeline slug, oldest first. */
  readonly builds = new Map<string, SimBuild[]>();
  readonly agents: SimAgent[] = [];
  /** Every job ever created, by id (retried ones included). */
  readonly jobIndex = new Map<string, { build: SimBuild; job: SimJob }>();
  /** Bumped on every change. */
  version = 0;
  /** While seeding history and the past, time is synthetic. */
  protected fakeNow: number | null = null;
  readonly random: Random;
  protected readonly now: () => Date;

  constructor(options: WorldOptions) {
    this.random = options.random;
    this.now = options.now;
    this.organization = options.organization;
    const specs = options.pipelines === 'default' ? DEFAULT_PIPELINES : scaledPipelines(options.pipelines);
    const created = this.time() - 400 * 86_400_000;
    specs.forEach((s, i) => this.addPipeline(s, created + i * 86_400_000));
    for (const spec of options.agents) this.addAgent(spec);
  }

  time(): number {
    return this.fakeNow ?? this.now().getTime();
  }

  uuid(): string {
    return this.random.uuid();
  }

  addPipeline(spec: PipelineSpec, createdAt: number): SimPipeline {
    const id = this.uuid();
    const pipeline: SimPipeline = {
      id, graphqlId: graphqlId('Pipeline', id), slug: spec.slug, name: spec.name, description: spec.description,
      repository: spec.repository, defaultBranch: spec.defaultBranch ?? 'main', createdAt, steps: spec.steps,
      skipQueuedBranchBuilds: spec.skipQueuedBranchBuilds ?? false, nextNumber: 1,
    };
    this.pipelines.push(pipeline);
    this.builds.set(spec.slug, []);
    return pipeline;
  }

  addAgent(spec: AgentSpec): SimAgent {
    const id = this.uuid();
    const state = spec.connectionState ?? 'connected';
    const agent: SimAgent = {
      id, graphqlId: graphqlId('Agent', id), name: spec.name,
      hostname: `${spec.name}.ci.internal`, metaData: [...spec.tags], version: '3.87.1',
      // Stable per name so a restart of the demo shows the same addresses.
      ipAddress: `10.0.${createHash('sha1').update(spec.name).digest()[0]! % 32}.${10 + this.agents.length}`,
      createdAt: this.time() - 30 * 86_400_000,
      connectionState: state,
      disconnectedAt: state === 'disconnected' || state === 'stopped' ? this.time() - 2 * 86_400_000 : null,
      lostAt: state === 'lost' ? this.time() - 86_400_000 : null,
      jobId: null, lastJobFinishedAt: null, priority: 0,
    };
    this.agents.push(agent);
    return agent;
  }

  pipeline(slug: string): SimPipeline | undefined {
    return this.pipelines.find((p) => p.slug === slug);
  }

  findPipeline(slug: string): SimPipeline {
    const p = this.pipeline(slug);
    if (!p) throw new Error(`unknown pipeline ${slug}`);
    return p;
  }

  build(slug: string, number: number): SimBuild | undefined {
    return this.builds.get(slug)?.find((b) => b.number === number);
  }

  findBuild(slug: string, number: number): SimBuild {
    const b = this.build(slug, number);
    if (!b) throw new Error(`unknown build ${slug}#${number}`);
    return b;
  }

  /** Every build of every pipeline, newest first (created_at, then number). */
  allBuilds(): SimBuild[] {
    return [...this.builds.values()].flat().sort((a, b) => b.createdAt - a.createdAt || b.number - a.number);
  }

  agent(id: string): SimAgent | undefined {
    return this.agents.find((a) => a.id === id);
  }

  agentByName(name: string): SimAgent {
    const a = this.agents.find((x) => x.name === name);
    if (!a) throw new Error(`unknown agent ${name}`);
    return a;
  }

  job(id: string): { build: SimBuild; job: SimJob } | undefined {
    return this.jobIndex.get(id);
  }
}
