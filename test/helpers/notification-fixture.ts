import { notificationId, type Notification, type NotifiedJob } from '../../src/notify/notification.ts';

/**
 * A realistic `failed` Notification for tests of sinks, the outbox and rules: acme/api main went red,
 * two jobs failed (unit-tests for code, integration-tests flaky), 4m 12s. Override any field.
 */

export function notifiedJob(overrides: Partial<NotifiedJob> = {}): NotifiedJob {
  return {
    id: 'Job:github:acme/api:9001',
    nativeId: '9001',
    name: 'unit-tests',
    status: 'FAILURE',
    native: { provider: 'github', status: 'completed', conclusion: 'failure', failureReason: 'Process completed with exit code 1.' },
    url: 'https://github.com/acme/api/actions/runs/4242/job/9001',
    category: 'code',
    reason: 'Process completed with exit code 1.',
    runnerName: 'gh-runner-3',
    labels: ['ubuntu-latest'],
    queuedAt: '2026-01-15T10:00:02.000Z',
    startedAt: '2026-01-15T10:00:10.000Z',
    finishedAt: '2026-01-15T10:03:55.000Z',
    flaky: false,
    ...overrides,
  };
}

export function failedPipelineNotification(overrides: Partial<Notification> = {}): Notification {
  const dedupeKey = overrides.dedupeKey ?? 'rule:broken|sink:team|pipeline:github:acme/api:4242|attempt:1|failed';
  return {
    id: notificationId(dedupeKey),
    dedupeKey,
    trigger: 'failed',
    rule: 'broken',
    category: 'code',
    occurredAt: '2026-01-15T10:04:12.000Z',
    detectedAt: '2026-01-15T10:04:13.250Z',
    backend: 'github',
    provider: 'github',
    project: { id: 'Project:github:acme/api', nativeId: 'acme/api', fullName: 'acme/api', url: 'https://github.com/acme/api' },
    pipeline: {
      id: 'Pipeline:github:acme/api:4242',
      nativeId: '4242',
      name: 'CI',
      title: 'Add retries to the client',
      number: 318,
      attempt: 1,
      status: 'FAILURE',
      native: { provider: 'github', status: 'completed', conclusion: 'failure', failureReason: null },
      url: 'https://github.com/acme/api/actions/runs/4242',
      branch: 'main',
      commitSha: '3f9c2a7d1e5b8c4f6a0d2e9b7c1a3f5e8d0b2c4a',
      actor: 'octocat',
      createdAt: '2026-01-15T10:00:00.000Z',
      startedAt: '2026-01-15T10:00:00.000Z',
      finishedAt: '2026-01-15T10:04:12.000Z',
      durationMs: 252_000,
      failingJobs: [
        notifiedJob(),
        notifiedJob({
          id: 'Job:github:acme/api:9002',
          nativeId: '9002',
          name: 'integration-tests',
          url: 'https://github.com/acme/api/actions/runs/4242/job/9002',
          reason: 'Test "checkout > pays" failed: timeout <5000ms> & retry',
          flaky: true,
        }),
      ],
    },
    job: null,
    previous: { pipelineId: 'Pipeline:github:acme/api:4241', status: 'SUCCESS', finishedAt: '2026-01-15T09:40:00.000Z' },
    red: null,
    pool: null,
    backendHealth: null,
    lifecycle: 'finished',
    summary: 'acme/api main: CI failed (2 jobs) after 4m 12s',
    ...overrides,
  };
}
