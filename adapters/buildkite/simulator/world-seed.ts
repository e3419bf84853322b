/**
 * Seed data of the simulated Buildkite organization: realistic pipelines
 * (parallel tests, a soft-fail step, a block step, a deploy with a
 * concurrency group and a branch filter, a trigger step), agents on several
 * queues, the people who push, and commit messages.
 */
import type { AgentSpec, SimCreator, StepDef } from './world-entities.ts';

export interface PipelineSpec {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly repository: string;
  readonly defaultBranch?: string;
  readonly steps: readonly StepDef[];
  readonly skipQueuedBranchBuilds?: boolean;
}

const cmd = (key: string, label: string, command: string, extra: Partial<Extract<StepDef, { type: 'command' }>> = {}): StepDef =>
  ({ type: 'command', key, label, command, queue: 'default', ...extra });
const WAIT: StepDef = { type: 'wait' };

export const DEFAULT_PIPELINES: readonly PipelineSpec[] = [
  {
    slug: 'web', name: 'Web', description: 'Storefront (Next.js)', repository: 'git@github.com:acme/web.git',
    skipQueuedBranchBuilds: true,
    steps: [
      cmd('lint', ':eslint: Lint', 'npm run lint', { runSteps: 1 }),
      cmd('test', ':jest: Unit tests', 'npm test -- --shard=$BUILDKITE_PARALLEL_JOB', { parallelism: 2 }),
      // A known-flaky audit: it fails softly and the build still passes.
      cmd('audit', ':lighthouse: Lighthouse audit', 'npm run audit', { softFail: true, outcome: 'failed', runSteps: 1 }),
      WAIT,
      cmd('build', ':docker: Build image', 'docker build -t web .'),
    ],
  },
  {
    slug: 'api', name: 'API', description: 'Go API service', repository: 'git@github.com:acme/api.git',
    steps: [
      cmd('test', ':go: Test', 'go test ./...', { runSteps: 3 }),
      cmd('lint', ':golangci-lint: Lint', 'golangci-lint run', { runSteps: 1 }),
      WAIT,
      cmd('deploy', ':rocket: Deploy', './scripts/deploy.sh', { queue: 'deploy', branches: ['main'], concurrencyGroup: 'api/deploy' }),
    ],
  },
  {
    slug: 'ios', name: 'iOS', description: 'iPhone app', repository: 'git@github.com:acme/ios.git',
    steps: [
      cmd('build', ':xcode: Build', 'fastlane build', { queue: 'macos', runSteps: 3 }),
      cmd('ui-tests', ':iphone: UI tests', 'fastlane scan', { queue: 'macos', runSteps: 2 }),
      WAIT,
      {
        type: 'block', key: 'ship', label: ':testflight: Ship to TestFlight?',
        fields: [
          { key: 'notes', text: 'Release notes', hint: 'What testers should look at' },
          { key: 'track', select: 'Track', default: 'internal', options: [{ label: 'Internal testers', value: 'internal' }, { label: 'External testers', value: 'external' }] },
        ],
      },
      cmd('upload', ':testflight: Upload', 'fastlane pilot upload', { queue: 'macos', runSteps: 1 }),
    ],
  },
  {
    slug: 'release', name: 'Release', description: 'Packages and hands off to the API deploy', repository: 'git@github.com:acme/api.git',
    steps: [
      cmd('package', ':package: Package', 'make package', { runSteps: 1 }),
      WAIT,
      { type: 'trigger', key: 'deploy-api', label: ':rocket: Deploy API', trigger: 'api', async: true },
    ],
  },
  {
    slug: 'docs', name: 'Docs', description: 'Docs site, published from main only', repository: 'git@github.com:acme/docs.git',
    steps: [cmd('publish', ':books: Publish', 'make publish', { branches: ['main'], runSteps: 1 })],
  },
];

/** `pipelines: N`: N small pipelines alternating a plain one and one with a wait step. */
export function scaledPipelines(count: number): PipelineSpec[] {
  return Array.from({ length: count }, (_, i): PipelineSpec => ({
    slug: `service-${i + 1}`, name: `Service ${i + 1}`, description: '', repository: `git@github.com:acme/service-${i + 1}.git`,
    steps: i % 2 === 0
      ? [cmd('test', ':hammer: Test', 'make test')]
      : [cmd('test', ':hammer: Test', 'make test'), WAIT, cmd('build', ':docker: Build', 'make image', { runSteps: 1 })],
  }));
}

export const DEFAULT_AGENTS: readonly AgentSpec[] = [
  { name: 'ci-linux-1', tags: ['queue=default', 'os=linux', 'docker=true'] },
  { name: 'ci-linux-2', tags: ['queue=default', 'os=linux', 'docker=true'] },
  { name: 'ci-linux-3', tags: ['queue=default', 'os=linux'] },
  { name: 'ci-linux-4', tags: ['queue=default', 'os=linux'] },
  { name: 'deploy-1', tags: ['queue=deploy', 'os=linux'] },
  { name: 'mac-mini-1', tags: ['queue=macos', 'os=macos', 'xcode=16.2'] },
  { name: 'ci-linux-old', tags: ['queue=default', 'os=linux'], connectionState: 'disconnected' },
  { name: 'mac-mini-2', tags: ['queue=macos', 'os=macos'], connectionState: 'never_connected' },
];

export const ACTORS: readonly SimCreator[] = [
  { id: '0183c5a6-8a59-4d1e-9c1e-5a3f1f1b2c01', name: 'Ada Lovelace', email: 'ada@acme.example' },
  { id: '0183c5a6-8a59-4d1e-9c1e-5a3f1f1b2c02', name: 'Grace Hopper', email: 'grace@acme.example' },
  { id: '0183c5a6-8a59-4d1e-9c1e-5a3f1f1b2c03', name: 'Linus Torvalds', email: 'linus@acme.example' },
  { id: '0183c5a6-8a59-4d1e-9c1e-5a3f1f1b2c04', name: 'Margaret Hamilton', email: 'margaret@acme.example' },
];

export const MESSAGES: readonly string[] = [
  'Fix flaky checkout test',
  'Bump react from 18.2.0 to 18.3.1',
  'Add pagination to the orders endpoint',
  'Refactor the payment client',
  'Speed up the Docker build with a cache mount',
  'Merge pull request #412 from acme/feature/login',
  'Handle empty carts in the summary',
  'Update the release checklist',
];

export const FEATURE_BRANCHES: readonly string[] = ['feature/login', 'fix/cart-total', 'renovate/react-18.x'];
