/**
 * The write endpoints of the Actions REST API (issue 15) and the reads they need: cancel and
 * force-cancel, re-runs, workflow dispatch, pending deployments and their review, the workflow
 * resource and the contents API serving workflow files. Answers as api.github.com does
 * (202 / 201 / 200 / 204, and GitHub's refusals via SimRefusal).
 */
import * as P from './payloads.ts';
import type { UrlBase } from './payloads.ts';
import { SimRefusal, type ActionWorld, type PendingDeployment } from './world-actions.ts';
import type { SimRun, WorldEvent } from './world-entities.ts';
import { WORKFLOW_FILES } from './workflow-files.ts';

export interface ActionReply {
  readonly status: number;
  readonly body: unknown;
}

export interface ActionRouteContext {
  readonly world: ActionWorld;
  readonly base: UrlBase;
  /** Sends the webhooks a transition causes (re-runs cause none). */
  readonly emit: (events: readonly WorldEvent[]) => Promise<void>;
  /** Answer like a GitHub Enterprise Server without `return_run_details` (before 2026-02): 422 for the key. */
  readonly legacyDispatch?: boolean;
}

function sendHooks(ctx: ActionRouteContext, events: readonly WorldEvent[]): void {
  ctx.emit(events).catch((err: unknown) => process.emitWarning(`github simulator webhooks: ${String(err)}`));
}

/** Path parts below /repos/{org}/{repo}/ (already decoded). */
type Parts = readonly string[];

function runOf(world: ActionWorld, repo: string, id: string | undefined): SimRun {
  const run = id !== undefined && /^\d+$/.test(id) ? world.runs.get(Number(id)) : undefined;
  if (!run || run.repo !== repo) throw new SimRefusal(404, 'Not Found');
  return run;
}

function pendingBody(base: UrlBase, world: ActionWorld, repo: string, p: PendingDeployment): unknown {
  const r = `${base.api}/repos/${world.org}/${repo}`;
  return {
    environment: {
      id: p.environment.id,
      node_id: P.nodeId('EN', p.environment.id),
      name: p.environment.name,
      url: `${r}/environments/${p.environment.name}`,
      html_url: `${base.html}/${world.org}/${repo}/deployments/activity_log?environments_filter=${p.environment.name}`,
    },
    wait_timer: 0,
    wait_timer_started_at: p.waitTimerStartedAt,
    current_user_can_approve: true,
    reviewers: [{ type: 'User', reviewer: P.user(base, { login: 'monalisa', id: 2154101, type: 'User' }) }],
  };
}

/** GET routes; null when the path is not one of them. */
export function routeActionsGet(ctx: ActionRouteContext, repo: string, parts: Parts, q: URLSearchParams): ActionReply | null {
  const { world, base } = ctx;
  const [a, b, c, d] = parts;
  if (a === 'actions' && b === 'runs' && d === 'pending_deployments' && parts.length === 4) {
    const run = runOf(world, repo, c);
    return { status: 200, body: world.pendingDeployments(run).map((p) => pendingBody(base, world, repo, p)) };
  }
  if (a === 'actions' && b === 'workflows' && parts.length === 3) {
    const wf = world.workflows.find((w) => w.repo === repo && (String(w.id) === c || w.path === `.github/workflows/${c}`));
    return wf ? { status: 200, body: P.workflow(base, world, wf) } : null;
  }
  if (a === 'contents' && parts.length >= 2) {
    const path = parts.slice(1).join('/');
    const ref = q.get('ref');
    if (ref !== null && !world.hasRef(repo, ref)) throw new SimRefusal(404, `No commit found for the ref ${ref}`);
    const file = path.startsWith('.github/workflows/') ? WORKFLOW_FILES[path.slice('.github/workflows/'.length)] : undefined;
    if (file === undefined || !world.workflows.some((w) => w.repo === repo && w.path === path)) return null;
    const text = Buffer.from(file);
    const r = `${base.api}/repos/${world.org}/${repo}`;
    const sha = P.nodeId('blob', text.length).slice(0, 40);
    return {
      status: 200,
      body: {
        type: 'file', encoding: 'base64', size: text.length, name: path.split('/').pop(), path, sha,
        // GitHub wraps base64 content at 60 characters.
        content: text.toString('base64').replace(/.{60}/g, '$&\n'),
        url: `${r}/contents/${path}?ref=${ref ?? 'main'}`,
        html_url: `${base.html}/${world.org}/${repo}/blob/${ref ?? 'main'}/${path}`,
        git_url: `${r}/git/blobs/${sha}`,
        download_url: `https://raw.githubusercontent.com/${world.org}/${repo}/${ref ?? 'main'}/${path}`,
        _links: { self: `${r}/contents/${path}`, git: `${r}/git/blobs/${sha}`, html: `${base.html}/${world.org}/${repo}/blob/${ref ?? 'main'}/${path}` },
      },
    };
  }
  return null;
}

/** POST routes; null when the path is not one of them. */
export function routeActionsPost(ctx: ActionRouteContext, repo: string, parts: Parts, body: Record<string, unknown>): ActionReply | null {
  const { world, base } = ctx;
  const [a, b, c, d, e] = parts;
  if (a !== 'actions') return null;
  if (b === 'runs' && parts.length === 4) {
    const run = runOf(world, repo, c);
    switch (d) {
      case 'cancel':
      case 'force-cancel':
        world.requestCancel(run);
        return { status: 202, body: {} };
      case 'rerun':
      case 'rerun-failed-jobs':
        world.rerun(run, d === 'rerun-failed-jobs');
        return { status: 201, body: {} };
      case 'pending_deployments': {
        const ids = body.environment_ids;
        const state = body.state;
        if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'number')) throw new SimRefusal(422, `Invalid request.\n\n"environment_ids" wasn't supplied.`);
        if (state !== 'approved' && state !== 'rejected') throw new SimRefusal(422, `Invalid request.\n\nFor 'properties/state', ${JSON.stringify(state)} is not a member of ["approved", "rejected"].`);
        if (typeof body.comment !== 'string') throw new SimRefusal(422, `Invalid request.\n\n"comment" wasn't supplied.`);
        const { events, reviewed } = world.review(run, ids as number[], state);
        sendHooks(ctx, events);
        return { status: 200, body: reviewed.map((p) => ({ environment: p.environment.name, state, comment: body.comment })) };
      }
      default:
        return null;
    }
  }
  if (b === 'jobs' && d === 'rerun' && parts.length === 4) {
    const job = c !== undefined && /^\d+$/.test(c) ? world.jobs.get(Number(c)) : undefined;
    if (!job || job.repo !== repo) throw new SimRefusal(404, 'Not Found');
    world.rerunJob(job);
    return { status: 201, body: {} };
  }
  if (b === 'workflows' && d === 'dispatches' && parts.length === 4 && c !== undefined && e === undefined) {
    if (ctx.legacyDispatch && 'return_run_details' in body) throw new SimRefusal(422, `Invalid request.\n\n"return_run_details" is not a permitted key.`);
    const { run, events } = world.dispatch(repo, c, body.ref, body.inputs);
    sendHooks(ctx, events);
    if (body.return_run_details !== true) return { status: 204, body: undefined };
    const r = `${base.api}/repos/${world.org}/${repo}`;
    return { status: 200, body: { workflow_run_id: run.id, run_url: `${r}/actions/runs/${run.id}`, html_url: `${base.html}/${world.org}/${repo}/actions/runs/${run.id}` } };
  }
  return null;
}
