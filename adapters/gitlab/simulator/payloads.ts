/**
 * Builds GitLab-shaped JSON (REST v4 entities and webhook bodies) from world
 * state. Field sets follow the GitLab docs (gitlabhq doc/api/{projects,
 * pipelines,jobs,runners}.md and doc/user/project/integrations/webhook_events.md)
 * and the REST entities (lib/api/entities/ci/*): e.g. a job's `failure_reason`
 * exists only when it failed, REST timestamps are ISO-8601 with milliseconds,
 * hook timestamps are `YYYY-MM-DD HH:MM:SS UTC` with `*_iso` twins.
 */
import {
  COMPLETED, type SimJob, type SimPipeline, type SimProject, type SimRunner, type SimUser, type Status,
} from './world-entities.ts';
import type { World } from './world.ts';

export interface UrlBase {
  /** API base, e.g. http://127.0.0.1:PORT/api/v4. */
  readonly api: string;
  /** Web base (GitLab serves web and API from one host), e.g. http://127.0.0.1:PORT. */
  readonly web: string;
}

type Json = Record<string, unknown>;

/** Hook timestamp format: `2016-08-12 15:23:28 UTC`. */
export function hookTime(iso: string | null): string | null {
  return iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** `*_iso` hook twins: ISO-8601 without milliseconds. */
export function hookIso(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/\.\d{3}Z$/, 'Z');
}

function seconds(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

function avatar(u: SimUser): string {
  return `https://secure.gravatar.com/avatar/${u.id.toString(16).padStart(32, '0')}?s=80&d=identicon`;
}

export function projectWeb(base: UrlBase, world: World, project: SimProject): string {
  return `${base.web}/${world.group}/${project.path}`;
}

function projectOf(world: World, id: number): SimProject {
  const p = world.project(id);
  if (!p) throw new Error(`project ${id} missing`);
  return p;
}

function pipelineOf(world: World, id: number): SimPipeline {
  const p = world.pipelines.get(id);
  if (!p) throw new Error(`pipeline ${id} missing`);
  return p;
}

// ------------------------------------------------------------------ REST

export function userBasic(base: UrlBase, u: SimUser): Json {
  return {
    id: u.id,
    username: u.username,
    public_email: '',
    name: u.name,
    state: 'active',
    locked: false,
    avatar_url: avatar(u),
    web_url: `${base.web}/${u.username}`,
  };
}

/** The user object embedded in jobs (UserBasic plus profile fields, as in the docs example). */
export function userFull(base: UrlBase, u: SimUser): Json {
  return {
    ...userBasic(base, u),
    created_at: '2023-01-10T09:00:00.000Z',
    bio: '',
    location: '',
    linkedin: '',
    twitter: '',
    discord: '',
    website_url: '',
    github: '',
    job_title: '',
    pronouns: '',
    organization: '',
    bot: false,
    work_information: null,
    followers: 0,
    following: 0,
    local_time: null,
  };
}

function namespace(base: UrlBase, world: World): Json {
  return {
    id: world.groupId,
    name: world.group,
    path: world.group,
    kind: 'group',
    full_path: world.group,
    parent_id: null,
    avatar_url: null,
    web_url: `${base.web}/groups/${world.group}`,
  };
}

/** GET /projects/:id (doc/api/projects.md, "Get a single project"; a representative subset of its fields). */
export function project(base: UrlBase, world: World, p: SimProject): Json {
  const web = projectWeb(base, world, p);
  const host = new URL(base.web).host;
  return {
    id: p.id,
    description: p.description,
    name: p.name,
    name_with_namespace: `${world.group} / ${p.name}`,
    path: p.path,
    path_with_namespace: `${world.group}/${p.path}`,
    created_at: p.createdAt,
    default_branch: p.defaultBranch,
    tag_list: [],
    topics: [],
    ssh_url_to_repo: `git@${host.replace(/:\d+$/, '')}:${world.group}/${p.path}.git`,
    http_url_to_repo: `${web}.git`,
    web_url: web,
    readme_url: `${web}/-/blob/${p.defaultBranch}/README.md`,
    forks_count: 0,
    avatar_url: null,
    star_count: 0,
    last_activity_at: p.lastActivityAt,
    namespace: namespace(base, world),
    visibility: 'private',
    archived: false,
    empty_repo: false,
    jobs_enabled: true,
    builds_access_level: 'enabled',
    shared_runners_enabled: true,
    group_runners_enabled: true,
    ci_config_path: null,
    open_issues_count: 0,
    _links: {
      self: `${base.api}/projects/${p.id}`,
      issues: `${base.api}/projects/${p.id}/issues`,
      merge_requests: `${base.api}/projects/${p.id}/merge_requests`,
      repo_branches: `${base.api}/projects/${p.id}/repository/branches`,
      labels: `${base.api}/projects/${p.id}/labels`,
      events: `${base.api}/projects/${p.id}/events`,
      members: `${base.api}/projects/${p.id}/members`,
    },
  };
}

export function commit(base: UrlBase, world: World, p: SimPipeline): Json {
  const proj = projectOf(world, p.projectId);
  const title = p.message.split('\n')[0] ?? p.message;
  return {
    id: p.sha,
    short_id: p.sha.slice(0, 8),
    created_at: p.createdAt,
    parent_ids: [p.beforeSha],
    title,
    message: p.message,
    author_name: p.user.name,
    author_email: p.user.email,
    authored_date: p.createdAt,
    committer_name: p.user.name,
    committer_email: p.user.email,
    committed_date: p.createdAt,
    trailers: {},
    extended_trailers: {},
    web_url: `${projectWeb(base, world, proj)}/-/commit/${p.sha}`,
  };
}

export function pipelineUrl(base: UrlBase, world: World, p: SimPipeline): string {
  return `${projectWeb(base, world, projectOf(world, p.projectId))}/-/pipelines/${p.id}`;
}

/** PipelineBasic (list items, job.pipeline, bridge.downstream_pipeline). */
export function pipelineBasic(base: UrlBase, world: World, p: SimPipeline): Json {
  return {
    id: p.id,
    iid: p.iid,
    project_id: p.projectId,
    sha: p.sha,
    ref: p.ref,
    status: p.status,
    source: p.source,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    web_url: pipelineUrl(base, world, p),
  };
}

/** List item of GET /projects/:id/pipelines (PipelineBasic plus `name`). */
export function pipelineListItem(base: UrlBase, world: World, p: SimPipeline): Json {
  const b = pipelineBasic(base, world, p);
  return { id: b.id, iid: b.iid, project_id: b.project_id, sha: b.sha, ref: b.ref, status: b.status, source: b.source, created_at: b.created_at, updated_at: b.updated_at, web_url: b.web_url, name: p.name };
}

const STATUS_TEXT: Record<Status, { text: string; label: string; icon: string }> = {
  created: { text: 'created', label: 'created', icon: 'status_created' },
  waiting_for_resource: { text: 'waiting', label: 'waiting for resource', icon: 'status_pending' },
  preparing: { text: 'preparing', label: 'preparing', icon: 'status_preparing' },
  waiting_for_callback: { text: 'waiting', label: 'waiting for callback', icon: 'status_pending' },
  pending: { text: 'pending', label: 'pending', icon: 'status_pending' },
  running: { text: 'running', label: 'running', icon: 'status_running' },
  success: { text: 'passed', label: 'passed', icon: 'status_success' },
  failed: { text: 'failed', label: 'failed', icon: 'status_failed' },
  canceling: { text: 'canceling', label: 'canceling', icon: 'status_canceled' },
  canceled: { text: 'canceled', label: 'canceled', icon: 'status_canceled' },
  skipped: { text: 'skipped', label: 'skipped', icon: 'status_skipped' },
  manual: { text: 'manual', label: 'manual action', icon: 'status_manual' },
  scheduled: { text: 'delayed', label: 'delayed', icon: 'status_scheduled' },
};

/** The pipeline's `detailed_status` label; "passed with warnings" when allowed failures happened. */
export function statusLabel(p: SimPipeline): string {
  return p.status === 'success' && p.warnings ? 'passed with warnings' : STATUS_TEXT[p.status].label;
}

export function detailedStatus(base: UrlBase, world: World, p: SimPipeline): Json {
  const warn = p.status === 'success' && p.warnings;
  const t = STATUS_TEXT[p.status];
  const path = new URL(pipelineUrl(base, world, p)).pathname;
  return {
    icon: warn ? 'status_warning' : t.icon,
    text: warn ? 'warning' : t.text,
    label: statusLabel(p),
    group: warn ? 'success-with-warnings' : p.status,
    tooltip: warn ? 'passed with warnings' : t.label,
    has_details: true,
    details_path: path,
    illustration: null,
    favicon: `/assets/ci_favicons/favicon_${warn ? 'status_warning' : t.icon}.png`,
  };
}

function pipelineDuration(p: SimPipeline): number | null {
  const d = seconds(p.startedAt, p.finishedAt);
  return d === null ? null : Math.round(d);
}

function pipelineQueued(p: SimPipeline): number | null {
  const d = seconds(p.createdAt, p.startedAt);
  return d === null ? null : Math.round(d);
}

/** GET /projects/:id/pipelines/:pipeline_id (doc/api/pipelines.md, "Get a single pipeline"). */
export function pipelineDetail(base: UrlBase, world: World, p: SimPipeline): Json {
  return {
    id: p.id,
    iid: p.iid,
    project_id: p.projectId,
    name: p.name,
    sha: p.sha,
    ref: p.ref,
    status: p.status,
    source: p.source,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    web_url: pipelineUrl(base, world, p),
    before_sha: p.beforeSha,
    tag: p.tag,
    yaml_errors: null,
    user: userBasic(base, p.user),
    started_at: p.startedAt,
    finished_at: p.finishedAt,
    committed_at: null,
    duration: pipelineDuration(p),
    queued_duration: pipelineQueued(p),
    coverage: null,
    detailed_status: detailedStatus(base, world, p),
    archived: false,
  };
}

/** A job's `runner`: the same basic runner entity as the list items. */
export function runnerInJob(world: World, r: SimRunner): Json {
  return runnerListItem(world, r);
}

function runnerManager(world: World, r: SimRunner): Json {
  return {
    id: r.managerId,
    system_id: r.systemId,
    version: r.version,
    revision: 'b8a899e1',
    platform: r.tags.includes('macos') ? 'darwin' : 'linux',
    architecture: r.tags.includes('arm64') ? 'arm64' : 'amd64',
    created_at: r.createdAt,
    contacted_at: world.runnerContactedAt(r),
    ip_address: '10.1.5.15',
    status: world.runnerStatus(r) === 'paused' ? (r.online ? 'online' : 'offline') : world.runnerStatus(r),
    job_execution_status: jobExecutionStatus(r),
  };
}

function jobDuration(world: World, j: SimJob): number | null {
  if (j.startedAt === null) return null;
  return seconds(j.startedAt, j.finishedAt ?? world.nowIso());
}

function jobQueued(world: World, j: SimJob): number | null {
  if (j.queuedAt === null) return null;
  return seconds(j.queuedAt, j.startedAt ?? world.nowIso());
}

/** Fields shared by jobs and bridges (Entities::Ci::JobBasic). */
function jobBasic(base: UrlBase, world: World, j: SimJob): Json {
  const p = pipelineOf(world, j.pipelineId);
  const proj = projectOf(world, j.projectId);
  const o: Json = {
    id: j.id,
    status: j.status,
    stage: j.stage,
    name: j.name,
    ref: p.ref,
    tag: p.tag,
    coverage: null,
    allow_failure: j.allowFailure,
    created_at: j.createdAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
    erased_at: null,
    duration: jobDuration(world, j),
    queued_duration: jobQueued(world, j),
    user: userFull(base, j.user),
    commit: commit(base, world, p),
    pipeline: pipelineBasic(base, world, p),
  };
  // failure_reason is exposed only for failed jobs.
  if (j.status === 'failed') o.failure_reason = j.failureReason;
  o.web_url = `${projectWeb(base, world, proj)}/-/jobs/${j.id}`;
  o.project = { ci_job_token_scope_enabled: false };
  return o;
}

/** GET /projects/:id/jobs/:job_id and list items (doc/api/jobs.md). */
export function job(base: UrlBase, world: World, j: SimJob): Json {
  const runner = j.runnerId === null ? undefined : world.runner(j.runnerId);
  const finished = COMPLETED.has(j.status) && j.startedAt !== null;
  return {
    ...jobBasic(base, world, j),
    artifacts: finished ? [{ file_type: 'trace', size: 2966, filename: 'job.log', file_format: null }] : [],
    runner: runner ? runnerInJob(world, runner) : null,
    runner_manager: runner ? runnerManager(world, runner) : null,
    artifacts_expire_at: null,
    archived: false,
    tag_list: [...j.tags],
  };
}

/** GET /projects/:id/pipelines/:pipeline_id/bridges items. */
export function bridge(base: UrlBase, world: World, j: SimJob): Json {
  const child = j.downstreamPipelineId === null ? undefined : world.pipelines.get(j.downstreamPipelineId);
  return { ...jobBasic(base, world, j), downstream_pipeline: child ? pipelineBasic(base, world, child) : null };
}

/** GET /runners/:id/jobs items: jobs with a small project object. */
export function runnerJob(base: UrlBase, world: World, j: SimJob): Json {
  const proj = projectOf(world, j.projectId);
  return {
    ...job(base, world, j),
    project: {
      id: proj.id,
      name: proj.name,
      name_with_namespace: `${world.group} / ${proj.name}`,
      path: proj.path,
      path_with_namespace: `${world.group}/${proj.path}`,
      created_at: proj.createdAt,
    },
  };
}

/**
 * `job_execution_status` (Entities::Ci::Runner and RunnerManager, GitLab 16+):
 * `active` while the runner executes any job, else `idle`.
 */
function jobExecutionStatus(r: SimRunner): 'active' | 'idle' {
  return r.jobIds.size > 0 ? 'active' : 'idle';
}

/** The basic runner entity: list items (GET /runners, /runners/all, /groups/:id/runners, /projects/:id/runners) and a job's `runner`. */
export function runnerListItem(world: World, r: SimRunner): Json {
  return {
    id: r.id,
    description: r.description,
    ip_address: null,
    active: !r.paused,
    paused: r.paused,
    is_shared: r.type === 'instance_type',
    runner_type: r.type,
    name: 'gitlab-runner',
    online: r.online,
    created_at: r.createdAt,
    status: world.runnerStatus(r),
    job_execution_status: jobExecutionStatus(r),
  };
}

/** GET /runners/:id (doc/api/runners.md, "Get runner's details"). */
export function runnerDetail(base: UrlBase, world: World, r: SimRunner): Json {
  const projects = world.projects.filter((p) => r.projectIds.includes(p.id)).map((p) => ({
    id: p.id,
    name: p.name,
    name_with_namespace: `${world.group} / ${p.name}`,
    path: p.path,
    path_with_namespace: `${world.group}/${p.path}`,
  }));
  return {
    ...runnerListItem(world, r),
    tag_list: [...r.tags],
    run_untagged: r.runUntagged,
    locked: r.type === 'project_type',
    maximum_timeout: null,
    access_level: 'not_protected',
    version: r.version,
    revision: 'b8a899e1',
    platform: r.tags.includes('macos') ? 'darwin' : 'linux',
    architecture: r.tags.includes('arm64') ? 'arm64' : 'amd64',
    contacted_at: world.runnerContactedAt(r),
    maintenance_note: null,
    projects,
    groups: r.type === 'group_type' ? [{ id: world.groupId, name: world.group, web_url: `${base.web}/groups/${world.group}` }] : [],
  };
}

// ------------------------------------------------------------------ webhooks

function hookUser(u: SimUser): Json {
  return { id: u.id, name: u.name, username: u.username, avatar_url: avatar(u), email: u.email };
}

function hookProject(base: UrlBase, world: World, proj: SimProject): Json {
  const web = projectWeb(base, world, proj);
  const host = new URL(base.web).host.replace(/:\d+$/, '');
  const ssh = `git@${host}:${world.group}/${proj.path}.git`;
  return {
    id: proj.id,
    name: proj.name,
    description: proj.description,
    web_url: web,
    avatar_url: null,
    git_ssh_url: ssh,
    git_http_url: `${web}.git`,
    namespace: world.group,
    visibility_level: 0,
    path_with_namespace: `${world.group}/${proj.path}`,
    default_branch: proj.defaultBranch,
    ci_config_path: null,
    homepage: web,
    url: ssh,
    ssh_url: ssh,
    http_url: `${web}.git`,
  };
}

function hookRunner(r: SimRunner | undefined): Json | null {
  if (!r) return null;
  return { id: r.id, description: r.description, runner_type: r.type, active: !r.paused, is_shared: r.type === 'instance_type', tags: [...r.tags] };
}

function hookEnvironment(j: SimJob): Json | null {
  return j.environment ? { name: j.environment, action: 'start', deployment_tier: j.environment === 'production' ? 'production' : 'other' } : null;
}

function sourcePipeline(base: UrlBase, world: World, p: SimPipeline): Json | undefined {
  if (!p.parent) return undefined;
  const proj = projectOf(world, p.parent.projectId);
  return {
    project: { id: proj.id, web_url: projectWeb(base, world, proj), path_with_namespace: `${world.group}/${proj.path}` },
    pipeline_id: p.parent.pipelineId,
    job_id: p.parent.jobId,
  };
}

/** Pipeline Hook body (webhook_events.md#pipeline-events). */
export function pipelineHook(base: UrlBase, world: World, p: SimPipeline): Json {
  const proj = projectOf(world, p.projectId);
  const web = projectWeb(base, world, proj);
  const builds = world.latestJobsOf(p.id).filter((j) => j.kind === 'build').sort((a, b) => b.id - a.id).map((j) => {
    const runner = j.runnerId === null ? undefined : world.runner(j.runnerId);
    return {
      id: j.id,
      stage: j.stage,
      name: j.name,
      status: j.status,
      created_at: hookTime(j.createdAt),
      started_at: hookTime(j.startedAt),
      finished_at: hookTime(j.finishedAt),
      duration: j.startedAt && j.finishedAt ? seconds(j.startedAt, j.finishedAt) : null,
      queued_duration: j.queuedAt && j.startedAt ? seconds(j.queuedAt, j.startedAt) : null,
      failure_reason: j.status === 'failed' ? j.failureReason : null,
      when: j.when,
      manual: j.when === 'manual',
      allow_failure: j.allowFailure,
      user: hookUser(j.user),
      runner: hookRunner(runner),
      artifacts_file: { filename: null, size: null },
      environment: hookEnvironment(j),
    };
  });
  const body: Json = {
    object_kind: 'pipeline',
    object_attributes: {
      id: p.id,
      iid: p.iid,
      name: p.name,
      ref: p.ref,
      tag: p.tag,
      sha: p.sha,
      before_sha: p.beforeSha,
      source: p.source,
      status: p.status,
      detailed_status: statusLabel(p),
      stages: [...p.stages],
      created_at: hookTime(p.createdAt),
      finished_at: hookTime(p.finishedAt),
      duration: pipelineDuration(p),
      queued_duration: pipelineQueued(p),
      variables: [],
      url: pipelineUrl(base, world, p),
    },
    merge_request: null,
    user: hookUser(p.user),
    project: hookProject(base, world, proj),
    commit: {
      id: p.sha,
      message: p.message,
      title: p.message.split('\n')[0] ?? p.message,
      timestamp: p.createdAt.replace(/\.\d{3}Z$/, '+00:00'),
      url: `${web}/-/commit/${p.sha}`,
      author: { name: p.user.name, email: p.user.email },
    },
  };
  const src = sourcePipeline(base, world, p);
  if (src) body.source_pipeline = src;
  body.builds = builds;
  return body;
}

/** Job Hook body (webhook_events.md#job-events). `commit.id` is the PIPELINE id (documented quirk). */
export function jobHook(base: UrlBase, world: World, j: SimJob): Json {
  const p = pipelineOf(world, j.pipelineId);
  const proj = projectOf(world, j.projectId);
  const web = projectWeb(base, world, proj);
  const runner = j.runnerId === null ? undefined : world.runner(j.runnerId);
  const body: Json = {
    object_kind: 'build',
    ref: p.ref,
    tag: p.tag,
    before_sha: p.beforeSha,
    sha: p.sha,
    build_id: j.id,
    build_name: j.name,
    build_stage: j.stage,
    build_status: j.status,
    build_created_at: hookTime(j.createdAt),
    build_created_at_iso: hookIso(j.createdAt),
    build_started_at: hookTime(j.startedAt),
    build_started_at_iso: hookIso(j.startedAt),
    build_finished_at: hookTime(j.finishedAt),
    build_finished_at_iso: hookIso(j.finishedAt),
    build_duration: j.startedAt && j.finishedAt ? seconds(j.startedAt, j.finishedAt) : null,
    build_queued_duration: j.queuedAt ? seconds(j.queuedAt, j.startedAt ?? world.nowIso()) : null,
    build_allow_failure: j.allowFailure,
    // Quirk (§7): reads "unknown_failure" for jobs that did not fail.
    build_failure_reason: j.status === 'failed' ? j.failureReason : 'unknown_failure',
    retries_count: j.retriesCount,
    pipeline_id: p.id,
    project_id: proj.id,
    project_name: `${world.group} / ${proj.name}`,
    user: hookUser(j.user),
    commit: {
      id: p.id,
      name: p.name,
      sha: p.sha,
      message: p.message,
      author_name: p.user.name,
      author_email: p.user.email,
      author_url: `${base.web}/${p.user.username}`,
      status: p.status,
      duration: pipelineDuration(p),
      started_at: hookTime(p.startedAt),
      started_at_iso: hookIso(p.startedAt),
      finished_at: hookTime(p.finishedAt),
      finished_at_iso: hookIso(p.finishedAt),
    },
    repository: {
      name: proj.name,
      url: `git@${new URL(base.web).host.replace(/:\d+$/, '')}:${world.group}/${proj.path}.git`,
      description: proj.description,
      homepage: web,
      git_http_url: `${web}.git`,
      git_ssh_url: `git@${new URL(base.web).host.replace(/:\d+$/, '')}:${world.group}/${proj.path}.git`,
      visibility_level: 0,
    },
    project: hookProject(base, world, proj),
    runner: hookRunner(runner),
    environment: hookEnvironment(j),
  };
  const src = sourcePipeline(base, world, p);
  if (src) body.source_pipeline = src;
  return body;
}
