/**
 * The JSON shapes of Buildkite's REST v2 API (shared/reference/buildkite.md
 * §1.4–1.5): pipeline, build (with or without jobs), job by type, agent, and
 * the webhook bodies of §3.2 (`{event, build, pipeline, sender}`, job events
 * add `job`, agent events carry `agent`). Timestamps are ISO with
 * milliseconds; the embedded pipeline's `created_at` is the `… UTC` form the
 * real API shows there.
 */
import {
  iso, queryRules, type SimAgent, type SimBuild, type SimCreator, type SimJob, type SimPipeline, type WorldEvent,
} from './world-entities.ts';
import { currentJobs } from './world-lifecycle.ts';
import type { World } from './world.ts';

export interface UrlBase {
  /** `http://127.0.0.1:PORT/v2` */
  readonly api: string;
  /** The web UI host (`https://buildkite.com`). */
  readonly web: string;
  readonly org: string;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export function pipelineUrl(b: UrlBase, p: SimPipeline): string {
  return `${b.api}/organizations/${b.org}/pipelines/${p.slug}`;
}

export function buildUrl(b: UrlBase, build: SimBuild): string {
  return `${pipelineUrl(b, build.pipeline)}/builds/${build.number}`;
}

export function pipelineJson(b: UrlBase, p: SimPipeline, world: World, embedded = false): Record<string, unknown> {
  const builds = world.builds.get(p.slug) ?? [];
  const jobs = builds.flatMap((x) => currentJobs(x));
  return {
    id: p.id,
    graphql_id: p.graphqlId,
    url: pipelineUrl(b, p),
    web_url: `${b.web}/${b.org}/${p.slug}`,
    name: p.name,
    description: p.description,
    slug: p.slug,
    repository: p.repository,
    cluster_id: null,
    branch_configuration: null,
    default_branch: p.defaultBranch,
    skip_queued_branch_builds: p.skipQueuedBranchBuilds,
    skip_queued_branch_builds_filter: null,
    cancel_running_branch_builds: false,
    cancel_running_branch_builds_filter: null,
    allow_rebuilds: true,
    provider: { id: 'github', webhook_url: `https://webhook.buildkite.com/deliver/${p.id.replace(/-/g, '')}`, settings: { repository: p.repository.replace(/^git@github\.com:|\.git$/g, '') } },
    builds_url: `${pipelineUrl(b, p)}/builds`,
    badge_url: `https://badge.buildkite.com/${p.id.replace(/-/g, '')}.svg`,
    created_by: null,
    // The Get-a-build example embeds the pipeline with this timestamp form.
    created_at: embedded ? utc(p.createdAt) : iso(p.createdAt),
    archived_at: null,
    env: null,
    scheduled_builds_count: builds.filter((x) => x.state === 'scheduled').length,
    running_builds_count: builds.filter((x) => x.state === 'running' || x.state === 'failing').length,
    scheduled_jobs_count: jobs.filter((j) => j.state === 'scheduled').length,
    running_jobs_count: jobs.filter((j) => j.state === 'running').length,
    waiting_jobs_count: jobs.filter((j) => j.state === 'waiting').length,
    visibility: 'private',
    tags: null,
    configuration: 'steps: …',
    steps: p.steps.map((s) => s.type === 'command'
      ? { type: 'script', name: s.label, command: s.command, key: s.key, agent_query_rules: queryRules(s) }
      : s.type === 'wait' ? { type: 'waiter' } : s.type === 'block' ? { type: 'manual', label: s.label, key: s.key, ...(s.fields ? { fields: s.fields.map((f) => ({ ...f, required: f.required ?? true })) } : {}) } : { type: 'trigger', label: s.label, trigger_project_slug: s.trigger }),
  };
}

function creatorJson(c: SimCreator | null): Record<string, unknown> | null {
  return c ? { id: c.id, name: c.name, email: c.email, avatar_url: `https://www.gravatar.com/avatar/${c.id.slice(0, 8)}`, created_at: '2019-04-01T09:00:00.000Z' } : null;
}

export function agentJson(b: UrlBase, a: SimAgent, world: World, withJob = true): Record<string, unknown> {
  const held = withJob && a.jobId ? world.job(a.jobId) : undefined;
  return {
    id: a.id,
    graphql_id: a.graphqlId,
    url: `${b.api}/organizations/${b.org}/agents/${a.id}`,
    web_url: `${b.web}/organizations/${b.org}/agents/${a.id}`,
    name: a.name,
    connection_state: a.connectionState,
    hostname: a.hostname,
    ip_address: a.ipAddress,
    user_agent: `buildkite-agent/${a.version}.x (linux; amd64)`,
    version: a.version,
    creator: null,
    created_at: iso(a.createdAt),
    job: held ? jobJson(b, held.build, held.job, world, false) : null,
    last_job_finished_at: iso(a.lastJobFinishedAt),
    priority: a.priority,
    meta_data: [...a.metaData],
  };
}

/** The job object; its shape follows the type (manual jobs have `label`, trigger jobs `triggered_build`). */
export function jobJson(b: UrlBase, build: SimBuild, j: SimJob, world: World, withAgent = true): Record<string, unknown> {
  const base = `${buildUrl(b, build)}/jobs/${j.id}`;
  const web = `${b.web}/${b.org}/${build.pipeline.slug}/builds/${build.number}#${j.id}`;
  const common = {
    id: j.id,
    graphql_id: j.graphqlId,
    type: j.type,
    step_key: j.step.key ?? null,
    step: { id: j.stepId, signature: null },
    state: j.state,
    web_url: j.type === 'waiter' ? null : web,
    created_at: iso(j.createdAt),
    scheduled_at: iso(j.scheduledAt),
    runnable_at: iso(j.runnableAt),
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
  };
  if (j.type === 'waiter') return { ...common, step_key: null };
  if (j.type === 'manual') {
    return {
      ...common,
      label: j.step.type === 'block' ? j.step.label : null,
      unblocked_by: creatorJson(j.unblockedBy),
      unblocked_at: iso(j.unblockedAt),
      unblockable: j.state === 'blocked',
      unblock_url: `${base}/unblock`,
      fields: j.unblockFields,
    };
  }
  if (j.type === 'trigger') {
    const child = j.triggeredBuild ? world.build(j.triggeredBuild.pipeline, j.triggeredBuild.number) : undefined;
    return {
      ...common,
      name: j.step.type === 'trigger' ? j.step.label : null,
      async: j.step.type === 'trigger' && j.step.async === true,
      triggered_build: child ? { id: child.id, number: child.number, url: buildUrl(b, child), web_url: `${b.web}/${b.org}/${child.pipeline.slug}/builds/${child.number}` } : null,
    };
  }
  const agent = j.agentId ? world.agent(j.agentId) : undefined;
  const step = j.step.type === 'command' ? j.step : null;
  return {
    ...common,
    name: step?.label ?? null,
    group_key: null,
    priority: { number: 0 },
    agent_query_rules: queryRules(j.step),
    log_url: `${base}/log`,
    raw_log_url: `${base}/log.txt`,
    command: step?.command ?? null,
    soft_failed: j.softFailed,
    exit_status: j.exitStatus,
    signal: j.signalReason === 'cancel' || j.signalReason === 'agent_stop' ? 'SIGTERM' : null,
    signal_reason: j.signalReason,
    artifact_paths: '',
    artifacts_url: `${base}/artifacts`,
    agent: agent ? (withAgent ? agentJson(b, agent, world, false) : { id: agent.id, url: `${b.api}/organizations/${b.org}/agents/${agent.id}`, name: agent.name }) : null,
    expired_at: j.state === 'expired' ? iso(j.finishedAt) : null,
    retried: j.retried,
    retried_in_job_id: j.retriedInJobId,
    retries_count: j.retriesCount,
    retry_source: j.retrySource,
    retry_type: j.retrySource?.retry_type ?? null,
    parallel_group_index: j.parallelIndex,
    parallel_group_total: j.parallelTotal,
    matrix: null,
    cluster_id: null,
    cluster_url: null,
    cluster_queue_id: null,
    cluster_queue_url: null,
    concurrency_wait_time_ms: null,
    promised_exit_status: null,
    promised_exit_status_at: null,
  };
}

export interface BuildJsonOptions {
  readonly jobs?: 'current' | 'all' | 'none';
  readonly pipeline?: boolean;
}

export function buildJson(b: UrlBase, build: SimBuild, world: World, o: BuildJsonOptions = {}): Record<string, unknown> {
  const jobsMode = o.jobs ?? 'current';
  const jobs = jobsMode === 'all' ? build.jobs : jobsMode === 'current' ? currentJobs(build) : null;
  return {
    id: build.id,
    graphql_id: build.graphqlId,
    url: buildUrl(b, build),
    web_url: `${b.web}/${b.org}/${build.pipeline.slug}/builds/${build.number}`,
    number: build.number,
    state: build.state,
    blocked: build.blocked,
    blocked_state: build.blocked ? 'passed' : '',
    cancel_reason: build.cancelReason,
    message: build.message,
    commit: build.commit,
    branch: build.branch,
    tag: null,
    env: build.env,
    source: build.source,
    author: build.creator ? { username: build.creator.email.split('@')[0], name: build.creator.name, email: build.creator.email } : null,
    creator: creatorJson(build.creator),
    ...(jobs ? { jobs: jobs.map((j) => jobJson(b, build, j, world)) } : {}),
    created_at: iso(build.createdAt),
    scheduled_at: iso(build.scheduledAt),
    started_at: iso(build.startedAt),
    failing_at: iso(build.failingAt),
    finished_at: iso(build.finishedAt),
    meta_data: build.metaData,
    pull_request: build.pullRequest,
    rebuilt_from: build.rebuiltFrom ? { ...build.rebuiltFrom, url: `${pipelineUrl(b, build.pipeline)}/builds/${build.rebuiltFrom.number}` } : null,
    ...(o.pipeline === false ? {} : { pipeline: pipelineJson(b, build.pipeline, world, true) }),
  };
}

const SENDER = { id: '8a7693f8-dbae-4783-9137-84090fce9045', name: 'Buildkite' };

/** The webhook body of an event (§3.2): builds without jobs, the payload as it is when sent. */
export function webhookBody(b: UrlBase, ev: WorldEvent, world: World): Record<string, unknown> {
  if ('agent' in ev) return { event: ev.event, agent: agentJson(b, ev.agent, world), sender: SENDER };
  const build = buildJson(b, ev.build, world, { jobs: 'none', pipeline: false });
  const pipeline = pipelineJson(b, ev.build.pipeline, world);
  if ('job' in ev) return { event: ev.event, job: jobJson(b, ev.build, ev.job, world), build, pipeline, sender: SENDER };
  return { event: ev.event, build, pipeline, sender: SENDER };
}

/** `ping`: `{event, service{id,provider,settings{url}}, organization, sender}` (§3.2). */
export function pingBody(world: World, targetUrl: string): Record<string, unknown> {
  return {
    event: 'ping',
    service: { id: '5d1d9b6a-3e0f-4f5e-9a57-1c2f3b4a5d6e', provider: 'webhook', settings: { url: targetUrl } },
    organization: { id: '2f9b8d46-1f69-4d4e-8e53-5d0f0e0d1a01', slug: world.organization, name: world.organization.toUpperCase() },
    sender: SENDER,
  };
}
