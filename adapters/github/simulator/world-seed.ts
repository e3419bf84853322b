/**
 * The seed data of the simulated GitHub organization: branch names, commit
 * messages, actors, workflows, the default self-hosted runners, and the
 * repositories and runners a fresh world starts with.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { isoSeconds, type RunnerSpec, type SimActor, type SimRepo, type SimRunner, type SimWorkflow } from './world-entities.ts';

export const BRANCHES = ['main', 'main', 'main', 'feature/login', 'fix/flaky-test', 'renovate/vitest-3.x', 'release/2.4'];
export const MESSAGES = [
  'Fix race in cache invalidation', 'Add retry to upstream client', 'Bump dependencies',
  'Refactor config loader', 'Improve error messages', 'Add metrics endpoint', 'Update README',
  'Tune connection pool', 'Handle empty pages in pagination', 'Speed up test suite',
];
export const ACTORS: readonly SimActor[] = [
  { login: 'monalisa', id: 2154101, type: 'User' },
  { login: 'hubot', id: 480938, type: 'User' },
  { login: 'octocat', id: 583231, type: 'User' },
  { login: 'dependabot[bot]', id: 49699333, type: 'Bot' },
];
const WORKFLOWS = [
  { name: 'CI', file: 'ci.yml' },
  { name: 'Deploy', file: 'deploy.yml' },
  { name: 'Nightly', file: 'nightly.yml' },
];
const LANGUAGES = ['TypeScript', 'Go', 'HCL', 'Python'];
const ORG_RUNNER_GROUP = { id: 1, name: 'Default' } as const;

export const DEFAULT_RUNNERS: readonly RunnerSpec[] = [
  { name: 'linux-x64-1', labels: ['self-hosted', 'Linux', 'X64'], scope: 'org' },
  { name: 'linux-x64-2', labels: ['self-hosted', 'Linux', 'X64'], scope: 'org' },
  { name: 'linux-arm64-1', labels: ['self-hosted', 'Linux', 'ARM64'], scope: 'org' },
  { name: 'macos-arm64-1', labels: ['self-hosted', 'macOS', 'ARM64'], scope: 'org', status: 'offline' },
];

/**
 * `runs-on` labels of GitHub-hosted runner images. A job whose labels are one
 * of these runs on a fresh GitHub-hosted VM, not on a self-hosted runner.
 */
const HOSTED_IMAGE_LABELS = new Set([
  'ubuntu-latest', 'ubuntu-24.04', 'ubuntu-22.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm',
  'windows-latest', 'windows-2025', 'windows-2022', 'macos-latest', 'macos-15', 'macos-14', 'macos-13',
]);

/**
 * GitHub-hosted runners as jobs report them: a fresh VM per job, named
 * `GitHub Actions <runner_id>`, in the runner group "GitHub Actions" with id 0
 * (recorded REST and webhook payloads of github.com jobs). No runner listing
 * (org or repository) ever contains them.
 */
export const HOSTED_RUNNER_GROUP = { id: 0, name: 'GitHub Actions' } as const;

export function runsOnGithubHosted(labels: readonly string[]): boolean {
  return labels.length === 1 && HOSTED_IMAGE_LABELS.has(labels[0]!.toLowerCase());
}

/** Labels GitHub adds itself (read-only); everything else is custom. */
const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'macos', 'windows', 'x64', 'arm64', 'arm']);

/** The repositories and their workflows, created over the past year (draws ids from `random`). */
export function seedRepositories(names: readonly string[], nowMs: number, random: Random): { repos: SimRepo[]; workflows: SimWorkflow[] } {
  const repos: SimRepo[] = [];
  const workflows: SimWorkflow[] = [];
  let repoId = 700_000_000 + random.int(0, 99_999_999);
  let workflowId = 100_000_000 + random.int(0, 9_999_999);
  names.forEach((name, i) => {
    const created = isoSeconds(new Date(nowMs - (400 - i * 30) * 86_400_000));
    repos.push({
      id: (repoId += random.int(1000, 90_000)),
      name,
      description: `The ${name} service`,
      language: LANGUAGES[i % LANGUAGES.length] ?? 'TypeScript',
      defaultBranch: 'main',
      createdAt: created,
      pushedAt: isoSeconds(new Date(nowMs - 3_600_000)),
      updatedAt: isoSeconds(new Date(nowMs - 3_600_000)),
    });
    for (const wf of WORKFLOWS) {
      workflows.push({
        id: (workflowId += random.int(1, 5000)),
        repo: name,
        name: wf.name,
        path: `.github/workflows/${wf.file}`,
        createdAt: created,
      });
    }
  });
  return { repos, workflows };
}

/** The self-hosted runners of `specs`, idle, in the org's default runner group. */
export function seedRunners(specs: readonly RunnerSpec[], random: Random): SimRunner[] {
  let runnerId = 10 + random.int(0, 20);
  let labelId = 1;
  return specs.map((spec): SimRunner => {
    const lower = spec.labels.map((l) => l.toLowerCase());
    return {
      id: runnerId++,
      name: spec.name,
      os: lower.includes('macos') ? 'macOS' : lower.includes('windows') ? 'Windows' : 'Linux',
      labels: spec.labels.map((name) => ({
        id: labelId++,
        name,
        type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom',
      })),
      scope: spec.scope,
      version: '2.329.0',
      groupId: ORG_RUNNER_GROUP.id,
      groupName: ORG_RUNNER_GROUP.name,
      status: spec.status ?? 'online',
      jobId: null,
    };
  });
}
