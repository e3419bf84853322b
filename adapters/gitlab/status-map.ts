import type { CiStatus, RunnerState, StatusMapping, WaitReason } from '../../src/model.ts';

/**
 * GitLab status → unified CiStatus (+ waitReason). Pipelines and jobs share
 * GitLab's 13 statuses (gitlabhq app/models/concerns/ci/has_status.rb
 * AVAILABLE_STATUSES). Every table is `satisfies Record<Union, ...>`, so a
 * value added to a union without a row is a compile error; values GitLab adds
 * later map to UNKNOWN at run time, and normalizers keep the raw strings.
 *
 * Decisions (reference ci-backends.md §4.5, §7):
 * - `created` → PENDING: exists, not yet handed to runners; `pending` and
 *   `preparing` → QUEUED (waiting for / being set up on a runner).
 * - `failed` jobs: `failure_reason` splits FAILURE / TIMED_OUT / ERROR (infra),
 *   and `allow_failure: true` turns any failure into UNSTABLE. The reason is read
 *   ONLY when the status is `failed`: Job Hooks say `unknown_failure` otherwise.
 * - `failed` pipelines → FAILURE (pipelines have no failure_reason).
 * - `success` pipelines "with warnings" (allowed failures) → UNSTABLE: REST
 *   `detailed_status.group` `success-with-warnings` (`success_with_warnings`
 *   before 15.x), Pipeline Hook `detailed_status` "passed with warnings".
 */
export const GITLAB_STATUSES = [
  'created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running',
  'success', 'failed', 'canceling', 'canceled', 'skipped', 'manual', 'scheduled',
] as const;
export type GitlabStatus = (typeof GITLAB_STATUSES)[number];

/** Job failure reasons (gitlabhq app/models/concerns/enums/ci/commit_status.rb, ci-backends.md §2.2). */
export const GITLAB_FAILURE_REASONS = [
  'unknown_failure', 'script_failure', 'api_failure', 'stuck_or_timeout_failure', 'runner_system_failure',
  'missing_dependency_failure', 'runner_unsupported', 'stale_schedule', 'job_execution_timeout', 'archived_failure',
  'unmet_prerequisites', 'scheduler_failure', 'data_integrity_failure', 'forward_deployment_failure',
  'user_blocked', 'project_deleted', 'ci_quota_exceeded', 'pipeline_loop_detected', 'no_matching_runner',
  'trace_size_exceeded', 'builds_disabled', 'environment_creation_failure', 'deployment_rejected',
  'failed_outdated_deployment_job', 'protected_environment_failure', 'insufficient_bridge_permissions',
  'downstream_bridge_project_not_found', 'invalid_bridge_trigger', 'upstream_bridge_project_not_found',
  'insufficient_upstream_permissions', 'bridge_pipeline_is_child_pipeline', 'downstream_pipeline_creation_failed',
  'secrets_provider_not_found', 'reached_max_descendant_pipelines_depth', 'reached_max_pipeline_hierarchy_size',
  'job_token_expired', 'job_router_failure',
] as const;
export type GitlabFailureReason = (typeof GITLAB_FAILURE_REASONS)[number];

const s = (status: Exclude<CiStatus, 'WAITING'>): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });
export const UNKNOWN_MAPPING = s('UNKNOWN');

const STATUS = {
  created: s('PENDING'),
  waiting_for_resource: wait('RESOURCE'),
  preparing: s('QUEUED'),
  waiting_for_callback: wait('CALLBACK'),
  pending: s('QUEUED'),
  running: s('RUNNING'),
  success: s('SUCCESS'),
  failed: s('FAILURE'),
  canceling: s('CANCELING'),
  canceled: s('CANCELED'),
  skipped: s('SKIPPED'),
  manual: wait('MANUAL'),
  scheduled: wait('SCHEDULED'),
} as const satisfies Record<GitlabStatus, StatusMapping>;

type FailureOutcome = 'FAILURE' | 'TIMED_OUT' | 'ERROR';

/** The job's failure as a user sees it: their code (FAILURE), a limit (TIMED_OUT), or the platform (ERROR). */
const FAILURE_REASON = {
  unknown_failure: 'FAILURE',
  script_failure: 'FAILURE',
  missing_dependency_failure: 'FAILURE',
  unmet_prerequisites: 'FAILURE',
  forward_deployment_failure: 'FAILURE',
  environment_creation_failure: 'FAILURE',
  deployment_rejected: 'FAILURE',
  failed_outdated_deployment_job: 'FAILURE',
  protected_environment_failure: 'FAILURE',
  insufficient_bridge_permissions: 'FAILURE',
  downstream_bridge_project_not_found: 'FAILURE',
  invalid_bridge_trigger: 'FAILURE',
  upstream_bridge_project_not_found: 'FAILURE',
  insufficient_upstream_permissions: 'FAILURE',
  bridge_pipeline_is_child_pipeline: 'FAILURE',
  downstream_pipeline_creation_failed: 'FAILURE',
  secrets_provider_not_found: 'FAILURE',
  reached_max_descendant_pipelines_depth: 'FAILURE',
  reached_max_pipeline_hierarchy_size: 'FAILURE',
  pipeline_loop_detected: 'FAILURE',
  trace_size_exceeded: 'FAILURE',
  job_execution_timeout: 'TIMED_OUT',
  stuck_or_timeout_failure: 'TIMED_OUT',
  runner_system_failure: 'ERROR',
  api_failure: 'ERROR',
  scheduler_failure: 'ERROR',
  data_integrity_failure: 'ERROR',
  runner_unsupported: 'ERROR',
  archived_failure: 'ERROR',
  stale_schedule: 'ERROR',
  no_matching_runner: 'ERROR',
  ci_quota_exceeded: 'ERROR',
  builds_disabled: 'ERROR',
  project_deleted: 'ERROR',
  user_blocked: 'ERROR',
  job_token_expired: 'ERROR',
  job_router_failure: 'ERROR',
} as const satisfies Record<GitlabFailureReason, FailureOutcome>;

function lookup<K extends string, V>(table: Readonly<Record<K, V>>, key: unknown): V | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as K] : undefined;
}

/** Total: any status (including non-strings) gives a valid mapping; unknown → UNKNOWN. */
export function mapStatus(status: unknown): StatusMapping {
  return lookup(STATUS, status) ?? UNKNOWN_MAPPING;
}

/**
 * A job (build or bridge). `failureReason` is read only for `failed`; an
 * unknown reason on a failed job stays FAILURE.
 */
export function mapJobStatus(status: unknown, failureReason: unknown, allowFailure: unknown): StatusMapping {
  if (status !== 'failed') return mapStatus(status);
  if (allowFailure === true) return s('UNSTABLE');
  return s(lookup(FAILURE_REASON, failureReason) ?? 'FAILURE');
}

/** The failure reason worth keeping in `native.failureReason` (null unless failed). */
export function effectiveFailureReason(status: unknown, failureReason: unknown): string | null {
  return status === 'failed' && typeof failureReason === 'string' && failureReason.length > 0 ? failureReason : null;
}

/** REST `detailed_status.group` or Pipeline Hook `detailed_status` label meaning "passed with warnings". */
export function isWarningsStatus(detailed: unknown): boolean {
  if (typeof detailed === 'string') {
    const d = detailed.toLowerCase();
    return d === 'passed with warnings' || d === 'success-with-warnings' || d === 'success_with_warnings';
  }
  const group = typeof detailed === 'object' && detailed !== null ? (detailed as Record<string, unknown>).group : undefined;
  return group === 'success-with-warnings' || group === 'success_with_warnings';
}

/** A pipeline; `detailedStatus` is the REST object or the hook's label string. */
export function mapPipelineStatus(status: unknown, detailedStatus: unknown): StatusMapping {
  if (status === 'success' && isWarningsStatus(detailedStatus)) return s('UNSTABLE');
  return mapStatus(status);
}

/**
 * Runner state from REST fields. `status` reads "paused" for a paused runner in
 * current REST (ci-backends.md §7), so pause is taken from `paused`/`active`
 * and the state from `online`, `status` and `contacted_at`:
 * never_contacted → NEVER_CONTACTED, stale → STALE, offline → OFFLINE,
 * online → BUSY when `job_execution_status` is `active` (or `busy` is known
 * true from `/runners/:id/jobs?status=running`), else IDLE.
 */
export function mapRunnerState(r: {
  readonly online?: unknown;
  readonly status?: unknown;
  readonly contactedAt?: number | null;
  readonly jobExecutionStatus?: unknown;
  readonly busy?: boolean | null;
  readonly nowMs?: number;
}): RunnerState {
  if (r.status === 'never_contacted') return 'NEVER_CONTACTED';
  if (r.status === 'stale') return 'STALE';
  let online: boolean | null = typeof r.online === 'boolean' ? r.online : null;
  if (online === null) {
    if (r.status === 'online') online = true;
    else if (r.status === 'offline') online = false;
    // ONLINE_CONTACT_TIMEOUT is 2 h (app/models/ci/runner.rb).
    else if (typeof r.contactedAt === 'number' && typeof r.nowMs === 'number') online = r.nowMs - r.contactedAt < 2 * 3600_000;
  }
  if (online === false) return 'OFFLINE';
  if (online !== true) return 'UNKNOWN';
  if (r.jobExecutionStatus === 'active' || r.busy === true) return 'BUSY';
  return 'IDLE';
}

/** Runner `paused`: the boolean, else the deprecated `active` flag, else status "paused". */
export function runnerPaused(paused: unknown, active: unknown, status: unknown): boolean {
  if (typeof paused === 'boolean') return paused;
  if (typeof active === 'boolean') return !active;
  return status === 'paused';
}

/**
 * The single GitLab `status` filter value that selects a unified status on
 * the pipelines listing, [] when no GitLab pipeline can have it, and several
 * values when the listing must be filtered locally. UNKNOWN: undefined.
 */
export const PIPELINE_FILTER_VALUES: Readonly<Record<CiStatus, readonly GitlabStatus[] | undefined>> = {
  PENDING: ['created'],
  QUEUED: ['pending', 'preparing'],
  WAITING: ['waiting_for_resource', 'waiting_for_callback', 'manual', 'scheduled'],
  RUNNING: ['running'],
  CANCELING: ['canceling'],
  SUCCESS: ['success'],
  UNSTABLE: ['success'],
  FAILURE: ['failed'],
  TIMED_OUT: [],
  ERROR: [],
  CANCELED: ['canceled'],
  SKIPPED: ['skipped'],
  UNKNOWN: undefined,
};
