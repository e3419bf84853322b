import { branch, tree, type TreeNode } from './tree.ts';

/**
 * Every `tree=` expression the adapter sends, in one place. Each asks for
 * exactly the fields normalize.ts reads (core `@Exported` members, §3.2-3.5).
 */

/** Build fields for a Pipeline (and its freestyle Job). */
export const BUILD_FIELDS: readonly TreeNode[] = [
  '_class', 'number', 'url', 'result', 'building', 'inProgress', 'timestamp', 'duration', 'estimatedDuration',
  'queueId', 'displayName', 'fullDisplayName', 'builtOn',
  branch('actions', [
    '_class',
    branch('causes', ['_class', 'shortDescription', 'userId', 'userName', 'upstreamProject', 'upstreamBuild']),
    branch('lastBuiltRevision', ['SHA1', branch('branch', ['SHA1', 'name'])]),
    'remoteUrls',
  ]),
];

export const BUILD_TREE = tree(...BUILD_FIELDS);

/** What the poller needs per job: enough to tell whether anything changed. */
const JOB_SCAN: readonly TreeNode[] = ['_class', 'name', 'fullName', 'displayName', 'url', 'color', branch('lastBuild', ['number', 'building'])];
/** What a Project needs. */
const JOB_PROJECT: readonly TreeNode[] = ['_class', 'name', 'fullName', 'displayName', 'url'];

/** `jobs[...,jobs[...,jobs[...]]]` down to `depth` levels (folders, multibranch, organization folders). */
export function nestedJobsTree(fields: readonly TreeNode[], depth: number): string {
  let node: TreeNode = branch('jobs', fields);
  for (let level = 1; level < depth; level++) node = branch('jobs', [...fields, node]);
  return tree(node);
}

/** The poller's one cheap root query: every job's last build number and building flag. */
export function scanTree(depth: number): string {
  return nestedJobsTree(JOB_SCAN, depth);
}

export function projectsTree(depth: number): string {
  return nestedJobsTree(JOB_PROJECT, depth);
}

/** Newest `limit` builds of every job, in the same single request (for list queries). */
export function buildsOfAllJobsTree(depth: number, limit: number): string {
  return nestedJobsTree([...JOB_PROJECT, branch('builds', BUILD_FIELDS, { from: 0, to: Math.max(1, limit) })], depth);
}

/** The newest `count` builds of one job (its detail read). */
export function jobBuildsTree(count: number): string {
  return tree('_class', branch('builds', BUILD_FIELDS, { from: 0, to: Math.max(1, Math.min(100, count)) }));
}

/**
 * Builds `from`..`to` (exclusive) of one job, newest first, at any age: `allBuilds`
 * with a `{M,N}` range (`builds` holds only the newest 100), to page back in time.
 */
export function jobBuildRangeTree(from: number, to: number): string {
  return tree('_class', branch('allBuilds', BUILD_FIELDS, { from, to: Math.max(from + 1, to) }));
}

export const QUEUE_TREE = tree(
  branch('items', [
    '_class', 'id', 'blocked', 'buildable', 'stuck', 'why', 'inQueueSince', 'url',
    branch('task', ['_class', 'name', 'url']),
    branch('actions', [branch('causes', ['_class', 'shortDescription', 'userId', 'userName'])]),
  ]),
);

export const QUEUE_ITEM_TREE = tree(
  '_class', 'id', 'blocked', 'buildable', 'stuck', 'why', 'inQueueSince', 'url', 'cancelled',
  branch('task', ['_class', 'name', 'url']),
  branch('executable', ['number', 'url']),
  branch('actions', [branch('causes', ['_class', 'shortDescription', 'userId', 'userName'])]),
);

const EXECUTOR: readonly TreeNode[] = ['idle', 'number', branch('currentExecutable', ['number', 'url'])];

export const COMPUTERS_TREE = tree(
  branch('computer', [
    '_class', 'displayName', 'offline', 'temporarilyOffline', 'idle', 'numExecutors', 'offlineCauseReason',
    branch('assignedLabels', ['name']),
    branch('executors', EXECUTOR),
    // Flyweight executors of Pipeline runs: reported, never counted as capacity.
    branch('oneOffExecutors', ['idle']),
  ]),
);
