/**
 * The seed data of the simulated GitLab group: commit messages, users, the
 * default child-pipeline jobs and runners, and the projects and runners a
 * fresh world starts with.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { isoMs, type JobSpec, type RunnerSpec, type SimProject, type SimRunner, type SimUser } from './world-entities.ts';

export const MESSAGES = [
  'Fix flaky integration test', 'Add retry to upstream client', 'Bump dependencies', 'Refactor config loader',
  'Improve error messages', 'Add metrics endpoint', 'Update README', 'Tune connection pool',
];
export const USERS: readonly SimUser[] = [
  { id: 1, username: 'root', name: 'Administrator', email: 'admin@example.com' },
  { id: 2381, username: 'jdoe', name: 'Jane Doe', email: 'jdoe@example.com' },
  { id: 4102, username: 'asmith', name: 'Alex Smith', email: 'asmith@example.com' },
];
export const DEFAULT_CHILD_JOBS: readonly JobSpec[] = [
  { name: 'child-build', stage: 'build', tags: ['docker'] },
  { name: 'child-test', stage: 'test', tags: ['docker'] },
];

export const DEFAULT_RUNNERS: readonly RunnerSpec[] = [
  // An autoscaling shared runner: several jobs at once.
  { description: 'shared-runner-1', tags: ['docker', 'linux'], type: 'instance_type', concurrent: 4 },
  { description: 'shared-runner-2', tags: ['docker', 'linux'], type: 'instance_type' },
  { description: 'platform-arm64', tags: ['docker', 'linux', 'arm64'], type: 'group_type' },
  { description: 'backend-gpu', tags: ['docker', 'gpu'], type: 'project_type', online: false },
  { description: 'legacy-macos', tags: ['macos'], type: 'instance_type', neverContacted: true },
];

/** The group's projects, created over the past year (draws ids from `random`). */
export function seedProjects(paths: readonly string[], nowMs: number, random: Random): SimProject[] {
  let projectId = 40_000_000 + random.int(0, 9_999_999);
  return paths.map((path, i) => ({
    id: (projectId += random.int(100, 90_000)),
    path,
    name: path,
    description: `The ${path} service`,
    defaultBranch: 'main',
    createdAt: isoMs(new Date(nowMs - (400 - i * 30) * 86_400_000)),
    lastActivityAt: isoMs(new Date(nowMs - 3_600_000)),
  }));
}

/**
 * The runners of `specs`, idle; a project runner without `projects` serves the
 * first project. `projectByPath` resolves the paths a spec names.
 */
export function seedRunners(
  specs: readonly RunnerSpec[],
  firstProject: SimProject | undefined,
  projectByPath: (path: string) => SimProject | undefined,
  nowMs: number,
  random: Random,
): SimRunner[] {
  let runnerId = 12_000_000 + random.int(0, 999_999);
  let managerId = 74_000_000 + random.int(0, 999_999);
  return specs.map((spec, index): SimRunner => {
    const projectIds =
      spec.type === 'project_type'
        ? (spec.projects ?? (firstProject ? [firstProject.path] : [])).map((p) => {
            const proj = projectByPath(p);
            if (!proj) throw new Error(`runner ${spec.description}: unknown project ${p}`);
            return proj.id;
          })
        : [];
    const online = !spec.neverContacted && !spec.stale && (spec.online ?? true);
    return {
      id: (runnerId += random.int(1, 5000)),
      description: spec.description,
      tags: [...spec.tags],
      type: spec.type,
      projectIds,
      runUntagged: spec.runUntagged ?? true,
      createdAt: isoMs(new Date(nowMs - (200 + index) * 86_400_000)),
      version: '18.3.0',
      managerId: (managerId += random.int(1, 900)),
      systemId: `s_${random.hex(12)}`,
      paused: spec.paused ?? false,
      online,
      neverContacted: spec.neverContacted ?? false,
      stale: spec.stale ?? false,
      contactedAt: spec.neverContacted
        ? null
        : spec.stale
          ? isoMs(new Date(nowMs - 8 * 86_400_000))
          : online
            ? null
            : isoMs(new Date(nowMs - 3 * 3_600_000)),
      concurrent: Math.max(1, Math.floor(spec.concurrent ?? 1)),
      jobIds: new Set(),
    };
  });
}
