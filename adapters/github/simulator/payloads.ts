/**
 * Builds GitHub-shaped JSON (REST responses and webhook bodies) from world
 * state. Field sets follow GitHub's OpenAPI description and the
 * @octokit/webhooks-schemas definitions; webhook objects carry exactly the
 * fields those schemas allow (they forbid extras), REST objects add the few
 * REST-only fields.
 */
import type { SimActor, SimJob, SimRepo, SimRun, SimRunner, SimWorkflow, WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';

export interface UrlBase {
  /** API base, e.g. http://127.0.0.1:PORT (stands in for https://api.github.com). */
  readonly api: string;
  /** Web base for html_url fields. */
  readonly html: string;
}

type Json = Record<string, unknown>;

/** GitHub's newer node ids look like `WFR_kwLO...`; any stable opaque string will do. */
export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`${prefix}:${id}`).toString('base64url')}`;
}

export function user(base: UrlBase, actor: SimActor): Json {
  // Bot logins contain brackets: GitHub percent-encodes them (`dependabot%5Bbot%5D`) and links bots to /apps/.
  const u = `${base.api}/users/${encodeURIComponent(actor.login)}`;
  return {
    login: actor.login,
    id: actor.id,
    node_id: nodeId(actor.type === 'Organization' ? 'O' : actor.type === 'Bot' ? 'BOT' : 'U', actor.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${actor.id}?v=4`,
    gravatar_id: '',
    url: u,
    html_url: actor.type === 'Bot' ? `${base.html}/apps/${actor.login.replace(/\[bot\]$/, '')}` : `${base.html}/${actor.login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: actor.type,
    site_admin: false,
  };
}

export function organization(base: UrlBase, world: World): Json {
  const o = `${base.api}/orgs/${world.org}`;
  return {
    login: world.org,
    id: world.orgId,
    node_id: nodeId('O', world.orgId),
    url: o,
    repos_url: `${o}/repos`,
    events_url: `${o}/events`,
    hooks_url: `${o}/hooks`,
    issues_url: `${o}/issues`,
    members_url: `${o}/members{/member}`,
    public_members_url: `${o}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${world.orgId}?v=4`,
    description: null,
  };
}

/** The "minimal" repository GitHub embeds in runs (webhook `repository-lite`). */
export function repositoryMinimal(base: UrlBase, world: World, repo: SimRepo): Json {
  const full = `${world.org}/${repo.name}`;
  const r = `${base.api}/repos/${full}`;
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: full,
    private: true,
    owner: user(base, world.orgOwner),
    html_url: `${base.html}/${full}`,
    description: repo.description,
    fork: false,
    url: r,
    forks_url: `${r}/forks`,
    keys_url: `${r}/keys{/key_id}`,
    collaborators_url: `${r}/collaborators{/collaborator}`,
    teams_url: `${r}/teams`,
    hooks_url: `${r}/hooks`,
    issue_events_url: `${r}/issues/events{/number}`,
    events_url: `${r}/events`,
    assignees_url: `${r}/assignees{/user}`,
    branches_url: `${r}/branches{/branch}`,
    tags_url: `${r}/tags`,
    blobs_url: `${r}/git/blobs{/sha}`,
    git_tags_url: `${r}/git/tags{/sha}`,
    git_refs_url: `${r}/git/refs{/sha}`,
    trees_url: `${r}/git/trees{/sha}`,
    statuses_url: `${r}/statuses/{sha}`,
    languages_url: `${r}/languages`,
    stargazers_url: `${r}/stargazers`,
    contributors_url: `${r}/contributors`,
    subscribers_url: `${r}/subscribers`,
    subscription_url: `${r}/subscription`,
    commits_url: `${r}/commits{/sha}`,
    git_commits_url: `${r}/git/commits{/sha}`,
    comments_url: `${r}/comments{/number}`,
    issue_comment_url: `${r}/issues/comments{/number}`,
    contents_url: `${r}/contents/{+path}`,
    compare_url: `${r}/compare/{base}...{head}`,
    merges_url: `${r}/merges`,
    archive_url: `${r}/{archive_format}{/ref}`,
    downloads_url: `${r}/downloads`,
    issues_url: `${r}/issues{/number}`,
    pulls_url: `${r}/pulls{/number}`,
    milestones_url: `${r}/milestones{/number}`,
    notifications_url: `${r}/notifications{?since,all,participating}`,
    labels_url: `${r}/labels{/name}`,
    releases_url: `${r}/releases{/id}`,
    deployments_url: `${r}/deployments`,
  };
}

/** Full repository as in webhook bodies (the webhook schema allows exactly these). */
export function repositoryWebhook(base: UrlBase, world: World, repo: SimRepo): Json {
  const host = new URL(base.html).host;
  const full = `${world.org}/${repo.name}`;
  return {
    ...repositoryMinimal(base, world, repo),
    created_at: repo.createdAt,
    updated_at: repo.updatedAt,
    pushed_at: repo.pushedAt,
    git_url: `git://${host}/${full}.git`,
    ssh_url: `git@${host}:${full}.git`,
    clone_url: `${base.html}/${full}.git`,
    svn_url: `${base.html}/${full}`,
    homepage: null,
    size: 4096,
    stargazers_count: 0,
    watchers_count: 0,
    language: repo.language,
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: false,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: 'private',
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: repo.defaultBranch,
    custom_properties: {},
  };
}

/** `GET /repos/{owner}/{repo}` (full-repository): the webhook shape plus REST-only fields. */
export function repositoryRest(base: UrlBase, world: World, repo: SimRepo): Json {
  return {
    ...repositoryWebhook(base, world, repo),
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    network_count: 0,
    subscribers_count: 3,
    organization: user(base, world.orgOwner),
  };
}

/** One item of `GET /orgs/{org}/repos`. */
export function repositoryListItem(base: UrlBase, world: World, repo: SimRepo): Json {
  return {
    ...repositoryWebhook(base, world, repo),
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
  };
}

export function workflow(base: UrlBase, world: World, wf: SimWorkflow): Json {
  const full = `${world.org}/${wf.repo}`;
  return {
    id: wf.id,
    node_id: nodeId('W', wf.id),
    name: wf.name,
    path: wf.path,
    state: 'active',
    created_at: wf.createdAt,
    updated_at: wf.createdAt,
    url: `${base.api}/repos/${full}/actions/workflows/${wf.id}`,
    html_url: `${base.html}/${full}/blob/main/${wf.path}`,
    badge_url: `${base.html}/${full}/workflows/${encodeURIComponent(wf.name)}/badge.svg`,
  };
}

/** The workflow-run object; identical in REST and in `workflow_run` webhooks. */
export function workflowRun(base: UrlBase, world: World, run: SimRun): Json {
  const repo = world.repo(run.repo);
  const wf = world.workflow(run.workflowId);
  if (!repo || !wf) throw new Error(`run ${run.id} refers to missing repo/workflow`);
  const full = `${world.org}/${repo.name}`;
  const r = `${base.api}/repos/${full}`;
  const u = `${r}/actions/runs/${run.id}`;
  const minimal = repositoryMinimal(base, world, repo);
  const pr = run.pullRequest;
  return {
    id: run.id,
    name: wf.name,
    node_id: nodeId('WFR', run.id),
    head_branch: run.branch,
    head_sha: run.sha,
    path: wf.path,
    // Without a `run-name`, scheduled and dispatched runs are titled by the workflow's name.
    display_title: run.displayTitle ?? (run.event === 'schedule' || run.event === 'workflow_dispatch' ? wf.name : pr ? pr.title : run.message),
    run_number: run.runNumber,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: wf.id,
    check_suite_id: run.checkSuiteId,
    check_suite_node_id: nodeId('CS', run.checkSuiteId),
    url: u,
    html_url: `${base.html}/${full}/actions/runs/${run.id}`,
    pull_requests: pr
      ? [{
          url: `${r}/pulls/${pr.number}`,
          id: pr.id,
          number: pr.number,
          head: { ref: run.branch, sha: run.sha, repo: { id: repo.id, url: r, name: repo.name } },
          base: { ref: repo.defaultBranch, sha: pr.baseSha, repo: { id: repo.id, url: r, name: repo.name } },
        }]
      : [],
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    actor: user(base, run.actor),
    run_attempt: run.runAttempt,
    referenced_workflows: [],
    run_started_at: run.runStartedAt,
    triggering_actor: user(base, run.actor),
    jobs_url: `${u}/jobs`,
    logs_url: `${u}/logs`,
    check_suite_url: `${r}/check-suites/${run.checkSuiteId}`,
    artifacts_url: `${u}/artifacts`,
    cancel_url: `${u}/cancel`,
    rerun_url: `${u}/rerun`,
    previous_attempt_url: run.runAttempt > 1 ? `${u}/attempts/${run.runAttempt - 1}` : null,
    workflow_url: `${r}/actions/workflows/${wf.id}`,
    head_commit: {
      id: run.sha,
      tree_id: run.treeId,
      message: run.message,
      timestamp: run.createdAt,
      author: { name: run.actor.login, email: `${run.actor.id}+${run.actor.login}@users.noreply.github.com` },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
    },
    repository: minimal,
    head_repository: minimal,
  };
}

/** Step timestamps carry milliseconds in GitHub's job payloads (`...:27.000Z`). */
function stepTime(ts: string | null): string | null {
  return ts === null ? null : ts.replace(/Z$/, '.000Z');
}

/** The job object; identical in REST and in `workflow_job` webhooks. */
export function job(base: UrlBase, world: World, j: SimJob): Json {
  const run = world.runs.get(j.runId);
  const wf = run ? world.workflow(run.workflowId) : undefined;
  if (!run || !wf) throw new Error(`job ${j.id} refers to a missing run`);
  const full = `${world.org}/${j.repo}`;
  const r = `${base.api}/repos/${full}`;
  return {
    id: j.id,
    run_id: j.runId,
    workflow_name: wf.name,
    head_branch: run.branch,
    run_url: `${r}/actions/runs/${j.runId}`,
    run_attempt: j.runAttempt ?? run.runAttempt,
    node_id: nodeId('CR', j.id),
    head_sha: run.sha,
    url: `${r}/actions/jobs/${j.id}`,
    html_url: `${base.html}/${full}/actions/runs/${j.runId}/job/${j.id}`,
    status: j.status,
    conclusion: j.conclusion,
    created_at: j.createdAt,
    started_at: j.startedAt,
    completed_at: j.completedAt,
    name: j.name,
    steps: j.steps.map((s) => ({
      name: s.name,
      status: s.status,
      conclusion: s.conclusion,
      number: s.number,
      started_at: stepTime(s.startedAt),
      completed_at: stepTime(s.completedAt),
    })),
    check_run_url: `${r}/check-runs/${j.id}`,
    labels: [...j.labels],
    runner_id: j.runnerId,
    runner_name: j.runnerName,
    runner_group_id: j.runnerGroupId,
    runner_group_name: j.runnerGroupName,
  };
}

export function runner(r: SimRunner): Json {
  return {
    id: r.id,
    name: r.name,
    os: r.os,
    status: r.status,
    busy: r.jobId !== null,
    ephemeral: false,
    runner_group_id: r.groupId,
    version: r.version,
    labels: r.labels.map((l) => ({ id: l.id, name: l.name, type: l.type })),
  };
}

export function notFound(): Json {
  return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
}

/** A webhook body for a world event, built at transition time (a snapshot, as GitHub sends). */
export function webhookBody(base: UrlBase, world: World, ev: WorldEvent): { body: Json; repo: SimRepo } {
  if (ev.event === 'workflow_run') {
    const run = world.runs.get(ev.runId);
    const repo = run && world.repo(run.repo);
    const wf = run && world.workflow(run.workflowId);
    if (!run || !repo || !wf) throw new Error(`run ${ev.runId} missing`);
    return {
      repo,
      body: {
        action: ev.action,
        workflow_run: workflowRun(base, world, run),
        workflow: workflow(base, world, wf),
        repository: repositoryWebhook(base, world, repo),
        organization: organization(base, world),
        sender: user(base, run.actor),
      },
    };
  }
  const j = world.jobs.get(ev.jobId);
  const run = j && world.runs.get(j.runId);
  const repo = j && world.repo(j.repo);
  if (!j || !run || !repo) throw new Error(`job ${ev.jobId} missing`);
  return {
    repo,
    body: {
      action: ev.action,
      workflow_job: job(base, world, j),
      repository: repositoryWebhook(base, world, repo),
      organization: organization(base, world),
      sender: user(base, run.actor),
    },
  };
}
