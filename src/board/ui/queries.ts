/** The board's GraphQL documents: the same public API any client uses, nothing private. */

const PIPELINE = `fragment BoardPipeline on Pipeline {
  id status name number url branch createdAt startedAt finishedAt
  backend { name provider }
  project { id fullName url defaultBranch }
  estimate { estimatedDuration estimatedFinishAt remainingSeconds }
  jobs(filter: { status: [FAILURE, TIMED_OUT, ERROR] }) { nodes { id name status url native { failureReason } } }
}`;

const POOL = `fragment BoardPool on RunnerPool {
  key labels hosted backend { name provider }
  runners { online busy idle paused offline }
  queue { depth oldestWaitSeconds }
}`;

export const BOARD_QUERY = `query Board($pipelines: PipelineFilter, $projects: ProjectFilter) {
  backends { name provider }
  projects(first: 100, filter: $projects) { nodes { id fullName url defaultBranch backend { name provider } } }
  pipelines(first: 25, filter: $pipelines) { nodes { ...BoardPipeline } }
}
${PIPELINE}`;

/** Since when each red branch is red, from the history (apart: it may be off, and it costs more). */
export const RED_SINCE_QUERY = `query RedSince($filter: AnalyticsFilter) {
  timeToGreen(window: { lastDays: 14 }, filter: $filter) { series { backend project branch ongoing { startedAt } } }
}`;

/** A project's latest pipeline on its wall branch, when the newest page did not hold one (the page stays small: a pipeline with its jobs costs ~270 of the 10,000 an operation may). */
export function latestOfProjects(count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$id${i}: ID!, $b${i}: String`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `p${i}: node(id: $id${i}) { ... on Project { pipelines(first: 1, filter: { branch: $b${i} }) { nodes { ...BoardPipeline } } } }`).join('\n');
  return `query Latest(${vars}) {\n${fields}\n}\n${PIPELINE}`;
}

export const PIPELINE_EVENTS = `subscription BoardPipelines($filter: PipelineFilter, $after: String) {
  pipelineUpdated(filter: $filter, after: $after) { cursor previousStatus pipeline { ...BoardPipeline } }
}
${PIPELINE}`;

export const POOLS_QUERY = `query Pools($filter: RunnerPoolFilter) { runnerPools(filter: $filter) { ...BoardPool } }
${POOL}`;

/** Apart from the pools: `window` reads the history, and an error there must not blank the pools. */
export const POOL_PRESSURE_QUERY = `query PoolPressure($filter: RunnerPoolFilter) {
  runnerPools(filter: $filter) { key window(bucketMinutes: 60) { buckets { queued } } }
}`;

export const POOL_EVENTS = `subscription BoardPools($filter: RunnerPoolFilter) { runnerPoolUpdated(filter: $filter) { pool { ...BoardPool } } }
${POOL}`;

export const ANALYTICS_QUERY = `query Analytics($filter: AnalyticsFilter) {
  pipelineStats(window: { lastDays: 14 }, groupBy: [PROJECT, DAY], filter: $filter) {
    groups { key { backend project bucket } count successRate duration { p95 } }
  }
  timeToGreen(window: { lastDays: 14 }, filter: $filter) { series { backend project branch periods { endedAt durationMs } } }
}`;
