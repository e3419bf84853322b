/**
 * The workflow files of the simulated repositories, as the contents API serves them, and
 * what a `workflow_dispatch` of each starts. `deploy.yml` declares typed dispatch inputs and a
 * `run-name` that carries them into the run's title (display_title), and its production deploy
 * waits for the environment's required reviewers. `ci.yml` has no `workflow_dispatch` trigger.
 */
import { parse } from 'yaml';
import type { JobSpec } from './world-entities.ts';

export const WORKFLOW_FILES: Readonly<Record<string, string>> = {
  'ci.yml': `name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  build:
    runs-on: [self-hosted, Linux]
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
`,
  'deploy.yml': `name: Deploy
run-name: Deploy \${{ inputs.version }} to \${{ inputs.environment }}
on:
  workflow_dispatch:
    inputs:
      environment:
        description: Where to deploy
        type: choice
        required: true
        options: [staging, production]
        default: staging
      version:
        description: Release to deploy
        type: string
        required: true
      dry_run:
        description: Plan only
        type: boolean
        default: false
      replicas:
        description: How many instances
        type: number
        default: 2
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: \${{ inputs.environment }}
    steps:
      - uses: actions/checkout@v4
      - run: ./deploy.sh "\${{ inputs.version }}"
`,
  'nightly.yml': `name: Nightly
on:
  schedule:
    - cron: '0 3 * * *'
  workflow_dispatch:
jobs:
  nightly:
    runs-on: ubuntu-latest
    steps:
      - run: make nightly
`,
};

/** Environments that have required reviewers in every simulated repository. */
export const REVIEWED_ENVIRONMENTS: ReadonlySet<string> = new Set(['production']);

export interface DispatchInput {
  readonly type: string;
  readonly required: boolean;
  readonly options: readonly string[];
  readonly default: string | null;
}

/** The `on.workflow_dispatch` block of a workflow file: null when the workflow has no such trigger. */
export function dispatchInputsOf(file: string): Map<string, DispatchInput> | null {
  const text = WORKFLOW_FILES[file];
  if (text === undefined) return null;
  const doc = parse(text) as { on?: Record<string, unknown> };
  const on = doc.on ?? {};
  if (!Object.hasOwn(on, 'workflow_dispatch')) return null;
  const inputs = ((on.workflow_dispatch as { inputs?: Record<string, Record<string, unknown>> } | null)?.inputs) ?? {};
  return new Map(Object.entries(inputs).map(([name, d]) => [name, {
    type: typeof d.type === 'string' ? d.type : 'string',
    required: d.required === true,
    options: Array.isArray(d.options) ? d.options.map(String) : [],
    default: d.default === undefined || d.default === null ? null : String(d.default),
  }]));
}

/** `run-name` with `${{ inputs.x }}` replaced, as GitHub renders a run's title. */
export function runNameOf(file: string, inputs: Readonly<Record<string, string>>): string | undefined {
  const text = WORKFLOW_FILES[file];
  const runName = text === undefined ? undefined : (parse(text) as { 'run-name'?: unknown })['run-name'];
  if (typeof runName !== 'string') return undefined;
  return runName.replace(/\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}/g, (_, name: string) => inputs[name] ?? '');
}

/** The jobs a dispatch of `file` runs. */
export function dispatchJobsOf(file: string, inputs: Readonly<Record<string, string>>): JobSpec[] {
  if (file === 'deploy.yml') {
    const environment = inputs.environment ?? 'staging';
    return [{
      name: 'deploy',
      labels: ['ubuntu-latest'],
      steps: ['Run actions/checkout@v4', 'Run ./deploy.sh'],
      ...(REVIEWED_ENVIRONMENTS.has(environment) ? { environment } : {}),
    }];
  }
  return [{ name: file.replace(/\.ya?ml$/, ''), labels: ['ubuntu-latest'] }];
}
