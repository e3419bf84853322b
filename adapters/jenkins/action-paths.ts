import { BUILD_PARAMETERS_TREE, JOB_PARAMETERS_TREE } from './action-params.ts';
import { jobPath } from './native-ids.ts';
import { branch, tree } from './tree.ts';

/**
 * Every path an action sends, in one place, so `plan` and `perform` cannot drift apart.
 * Paths are below the backend's `url` and carry no credentials and no input values
 * (parameters travel in the POST body).
 */
const BUILD_STATE_TREE = tree('_class', 'building', 'result');
const QUEUE_FOLLOW_TREE = tree('_class', 'id', 'cancelled', branch('executable', ['number', 'url']));

/** Placeholders of a plan for values only the upstream's answer names. */
export const PLACEHOLDER = { queueId: '{queueId}', inputId: '{inputId}' } as const;

const q = (t: string) => `?tree=${encodeURIComponent(t)}`;
const build = (fullName: string, n: number) => `${jobPath(fullName)}/${n}`;

export const actionPaths = {
  buildState: (fullName: string, n: number) => `${build(fullName, n)}/api/json${q(BUILD_STATE_TREE)}`,
  buildParameters: (fullName: string, n: number) => `${build(fullName, n)}/api/json${q(BUILD_PARAMETERS_TREE)}`,
  /** Run.doStop (Executor interrupt), WorkflowRun.doTerm, WorkflowRun.doKill. */
  stop: (fullName: string, n: number, how: 'stop' | 'term' | 'kill' = 'stop') => `${build(fullName, n)}/${how}`,
  queueItem: (queueId: number | string) => `/queue/item/${queueId}/api/json${q(QUEUE_FOLLOW_TREE)}`,
  cancelQueueItem: (queueId: number) => `/queue/cancelItem?id=${queueId}`,
  jobParameters: (fullName: string) => `${jobPath(fullName)}/api/json${q(JOB_PARAMETERS_TREE)}`,
  trigger: (fullName: string, parameterized: boolean) => `${jobPath(fullName)}/${parameterized ? 'buildWithParameters' : 'build'}`,
  pendingInputs: (fullName: string, n: number) => `${build(fullName, n)}/wfapi/pendingInputActions`,
  /** InputStepExecution: `proceedEmpty`, `submit` (form `proceed` + `json`), `abort`. */
  input: (fullName: string, n: number, inputId: string, verb: 'proceedEmpty' | 'submit' | 'abort') =>
    `${build(fullName, n)}/input/${inputId === PLACEHOLDER.inputId ? inputId : encodeURIComponent(inputId)}/${verb}`,
};

/** The queue item id of a `Location: …/queue/item/<id>/` answer, or null. */
export function queueIdOf(location: string | null): number | null {
  const m = location ? /\/queue\/item\/([1-9][0-9]{0,15})\/?$/.exec(location) : null;
  return m ? Number(m[1]) : null;
}
