import type { CiStatus, NativeStatus } from '../../model.ts';
import type { FailureCategory } from '../notification.ts';

/**
 * A timeout the runner caused, not the job: GitLab's runner_system_failure and
 * stuck_or_timeout_failure, GitHub's "lost communication with the server", a Jenkins agent gone.
 */
const RUNNER_FAULT = /runner|lost communication|system[_ ]failure|stuck|agent|executor|node .*(offline|disconnect)|shutdown signal/i;

/** Who a result is for (FailureCategory): infrastructure for the CI's people, code for the authors. */
export function failureCategory(status: CiStatus, native: Pick<NativeStatus, 'failureReason' | 'conclusion'> | null): FailureCategory {
  switch (status) {
    case 'ERROR':
      return 'infrastructure';
    case 'TIMED_OUT':
      return RUNNER_FAULT.test(native?.failureReason ?? '') ? 'infrastructure' : 'code';
    case 'FAILURE':
    case 'UNSTABLE':
      return 'code';
    default:
      return 'none';
  }
}

/**
 * A pipeline's category from its failing jobs: code as soon as one job failed on the code (its
 * authors must hear of it), infrastructure when every failing job did on the CI; without failing
 * jobs known, the pipeline's own.
 */
export function pipelineCategory(own: FailureCategory, jobs: readonly FailureCategory[]): FailureCategory {
  const failing = jobs.filter((c) => c !== 'none');
  if (failing.length === 0) return own;
  return failing.includes('code') ? 'code' : 'infrastructure';
}
