/**
 * The seed data of the simulated Jenkins: the default agents and job tree (or
 * a flat tree of n jobs for load tests), the users who start builds, and the
 * plausible builds history is made of.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import {
  SCM_CAUSE, userCause,
  type AgentSpec, type BuildSpec, type JobKind, type SimComputer, type SimContainer, type SimFolder, type SimJob, type SimParamDef, type StageSpec,
} from './world-entities.ts';

export const DEFAULT_AGENTS: readonly AgentSpec[] = [
  { name: 'built-in', labels: ['built-in'], executors: 1 },
  { name: 'linux-1', labels: ['linux', 'docker'], executors: 2 },
  { name: 'linux-2', labels: ['linux'], executors: 2 },
  { name: 'mac-1', labels: ['mac', 'macos'], executors: 1, offline: true },
];

export const ACTORS = ['alice', 'bob', 'carol', 'dave'];

/** The computers of `agents`; a built-in node without executors is added when none is named. */
export function seedComputers(agents: readonly AgentSpec[]): SimComputer[] {
  const specs = agents.some((a) => a.name === 'built-in')
    ? agents
    : [{ name: 'built-in', labels: ['built-in'], executors: 0 }, ...agents];
  return specs.map((a) => ({
    name: a.name,
    builtIn: a.name === 'built-in',
    labels: a.labels,
    numExecutors: a.executors,
    channelDown: a.name !== 'built-in' && (a.offline ?? false),
    temporarilyOffline: a.temporarilyOffline ?? false,
    offlineMessage: a.temporarilyOffline ? 'Maintenance' : null,
    executors: Array.from({ length: a.executors }, () => null),
  }));
}

function addFolder(parent: SimContainer, name: string, kind: 'folder' | 'multibranch' = 'folder', description: string | null = null): SimFolder {
  const f: SimFolder = { kind, name, displayName: name, parent, children: new Map(), description };
  parent.children.set(name, f);
  return f;
}

function addJob(parent: SimContainer, name: string, kind: JobKind, opts: {
  label?: string | null; stages?: StageSpec[]; steps?: string[]; displayName?: string; repo?: string; branch?: string; params?: SimParamDef[];
} = {}): SimJob {
  const repo = opts.repo ?? name;
  const j: SimJob = {
    kind,
    name,
    displayName: opts.displayName ?? name,
    parent,
    label: opts.label ?? null,
    concurrent: kind === 'pipeline',
    scmUrl: `https://git.example.com/acme/${repo}.git`,
    gitBranch: opts.branch ?? 'origin/main',
    stages: opts.stages ?? [],
    freestyleSteps: opts.steps ?? ['Execute shell'],
    params: opts.params ?? [],
    builds: [],
    nextBuildNumber: 1,
  };
  parent.children.set(name, j);
  return j;
}

/** Folders, a multibranch project and a mix of freestyle and Pipeline jobs, as a small team has. */
export function seedDefaultTree(root: SimContainer): void {
  const std = (...names: string[]): StageSpec[] => names.map((name) => ({ name, steps: stepsFor(name) }));
  const teamA = addFolder(root, 'team-a', 'folder', 'Team A services');
  addJob(teamA, 'lint', 'freestyle', { label: 'linux', steps: ['Git', 'Execute shell'], repo: 'service' });
  addJob(teamA, 'service', 'pipeline', {
    label: 'linux',
    stages: std('Checkout', 'Build', 'Test', 'Package'),
    params: [
      { name: 'DEPLOY_ENV', type: 'choice', choices: ['staging', 'production'], description: 'Where to deploy' },
      { name: 'RUN_E2E', type: 'boolean', default: false, description: 'Run the end-to-end suite' },
      { name: 'VERSION', type: 'string', default: '', description: 'Version to build (empty: next)' },
    ],
  });
  const platform = addFolder(root, 'platform');
  const infra = addFolder(platform, 'infra');
  addJob(infra, 'terraform', 'pipeline', {
    label: 'linux',
    stages: [{ name: 'Plan', steps: ['Shell Script'] }, { name: 'Approve', input: true }, { name: 'Apply', steps: ['Shell Script'] }],
  });
  addJob(infra, 'nightly-backup', 'freestyle', { label: 'linux && docker' });
  const mono = addFolder(root, 'monorepo', 'multibranch', 'Monorepo branches');
  addJob(mono, 'main', 'pipeline', { label: 'linux', stages: std('Checkout', 'Build', 'Test', 'Publish'), repo: 'monorepo', branch: 'main' });
  addJob(mono, 'feature%2Fx', 'pipeline', {
    label: 'linux',
    displayName: 'feature/x',
    stages: [...std('Checkout', 'Build', 'Test'), { name: 'Publish', when: false }],
    repo: 'monorepo',
    branch: 'feature/x',
  });
  addJob(root, 'docs', 'freestyle', { steps: ['Git', 'Execute shell'] });
  addJob(root, 'ios-app', 'pipeline', { label: 'mac', stages: std('Checkout', 'Build', 'Test') });
}

/** `n` jobs at the top level, alternating freestyle and Pipeline (for load tests). */
export function seedScaledTree(root: SimContainer, n: number): void {
  const width = String(n).length;
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(Math.max(3, width), '0');
    if (i % 2 === 0) addJob(root, `pipeline-${id}`, 'pipeline', { stages: [{ name: 'Build', steps: ['Shell Script'] }, { name: 'Test', steps: ['Shell Script'] }] });
    else addJob(root, `freestyle-${id}`, 'freestyle');
  }
}

function stepsFor(stage: string): string[] {
  switch (stage) {
    case 'Checkout': return ['Check out from version control'];
    case 'Build': return ['Shell Script', 'Shell Script'];
    case 'Test': return ['Shell Script', 'Archive JUnit-formatted test results'];
    case 'Package': return ['Shell Script', 'Archive the artifacts'];
    case 'Publish': return ['Shell Script'];
    default: return ['Shell Script'];
  }
}

/** A plausible historic build: mostly green, the odd failure. */
export function historySpec(random: Random, job: SimJob): BuildSpec {
  const x = random.next();
  const causes = [random.chance(0.5) ? SCM_CAUSE : userCause(random.pick(ACTORS))];
  if (job.kind === 'freestyle') {
    return { result: x < 0.8 ? 'SUCCESS' : x < 0.93 ? 'FAILURE' : 'UNSTABLE', causes };
  }
  const stages = job.stages.map((s) => ({ ...s }));
  if (x >= 0.8 && stages.length > 1) {
    const victim = stages[random.int(1, stages.length - 1)];
    if (victim && !victim.input && victim.when !== false) victim.outcome = x < 0.93 ? 'FAILED' : 'UNSTABLE';
  }
  return { stages, causes };
}
