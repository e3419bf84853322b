import type { components as Rest } from '@octokit/openapi-types';
import type { components as Hooks } from '@octokit/openapi-webhooks-types';

/**
 * The upstream shapes the normalizers accept: REST responses and webhook
 * payload objects. They document intent only; the normalizers read every
 * field defensively (the official examples are known to be noisy, §1.7).
 */
export type RestRun = Rest['schemas']['workflow-run'];
export type RestJob = Rest['schemas']['job'];
export type RestRunner = Rest['schemas']['runner'];
export type RestRepo = Rest['schemas']['full-repository'] | Rest['schemas']['minimal-repository'];

export type HookRun =
  | Hooks['schemas']['webhook-workflow-run-requested']['workflow_run']
  | Hooks['schemas']['webhook-workflow-run-in-progress']['workflow_run']
  | Hooks['schemas']['webhook-workflow-run-completed']['workflow_run'];
export type HookJob =
  | Hooks['schemas']['webhook-workflow-job-queued']['workflow_job']
  | Hooks['schemas']['webhook-workflow-job-waiting']['workflow_job']
  | Hooks['schemas']['webhook-workflow-job-in-progress']['workflow_job']
  | Hooks['schemas']['webhook-workflow-job-completed']['workflow_job'];

export type RunPayload = RestRun | HookRun;
export type JobPayload = RestJob | HookJob;
export type RunnerPayload = RestRunner;
export type RepoPayload = RestRepo | { readonly full_name: string; readonly [key: string]: unknown };

/** List envelopes. */
export interface RunsPage { readonly total_count?: number; readonly workflow_runs?: readonly RunPayload[] }
export interface JobsPage { readonly total_count?: number; readonly jobs?: readonly JobPayload[] }
export interface RunnersPage { readonly total_count?: number; readonly runners?: readonly RunnerPayload[] }
