import { CATEGORY, STATUS, duration, providerName, safeUrl, since } from './format.ts';
import { RED, type BoardModel } from './model.ts';
import type { Pipeline, Project } from './types.ts';

function Progress({ p, now }: { p: Pipeline; now: number }) {
  const estimate = p.estimate?.estimatedDuration;
  if (p.status !== 'RUNNING' || !p.startedAt) return null;
  const elapsed = (now - Date.parse(p.startedAt)) / 1000;
  if (!estimate) return <p class="eta">running for {duration(elapsed)} · no estimate yet</p>;
  const finishAt = p.estimate?.estimatedFinishAt ? Date.parse(p.estimate.estimatedFinishAt) : Date.parse(p.startedAt) + estimate * 1000;
  const left = (finishAt - now) / 1000;
  return (
    <div class="eta">
      <progress max={estimate} value={Math.min(elapsed, estimate)} aria-label="progress against the usual duration" />
      <span>{left > 0 ? `ETA ${duration(left)}` : `${duration(-left)} over the usual ${duration(estimate)}`}</span>
    </div>
  );
}

function Failure({ p, model, now }: { p: Pipeline; model: BoardModel; now: number }) {
  const redSince = model.redSinceOf(p);
  return (
    <div class="failure">
      <p class="category">{CATEGORY[p.status]} failure{redSince ? ` · red for ${since(redSince, now)}` : ''}</p>
      <ul class="jobs">
        {p.jobs.nodes.filter((j) => RED.has(j.status)).slice(0, 4).map((j) => (
          <li key={j.id}>{STATUS[j.status].icon} {j.name} <small>({CATEGORY[j.status]}{j.native.failureReason ? `: ${j.native.failureReason}` : ''})</small></li>
        ))}
      </ul>
    </div>
  );
}

function Cell({ project, p, model, now }: { project: Project; p: Pipeline | undefined; model: BoardModel; now: number }) {
  const s = p ? STATUS[p.status] : { icon: '·', text: 'no pipeline yet', tone: 'grey' };
  const link = safeUrl(p?.url ?? project.url);
  return (
    <article class={`cell tone-${s.tone}`} data-project={project.fullName} data-provider={project.backend.provider} data-status={p?.status ?? 'NONE'} data-pipeline-id={p?.id ?? ''} data-branch={p?.branch ?? ''} data-wall-branch={model.wallBranch(project) ?? ''}>
      <header>
        <span class="status"><span aria-hidden="true">{s.icon}</span> {s.text}</span>
        <span class="provider">{providerName(project.backend.provider)}</span>
      </header>
      <h3>{link ? <a href={link} rel="noopener noreferrer" target="_blank">{project.fullName}</a> : project.fullName}</h3>
      {p && <p class="pipeline">{p.name ?? 'pipeline'}{p.number !== null ? ` #${p.number}` : ''}{p.branch ? ` · ${p.branch}` : ''}</p>}
      {p && <Progress p={p} now={now} />}
      {p && RED.has(p.status) && <Failure p={p} model={model} now={now} />}
    </article>
  );
}

/** Projects × their latest pipeline on the wall branch, red first so trouble is seen from across the room. */
export function Wall({ model, now }: { model: BoardModel; now: number }) {
  const order = (x: Project) => (RED.has(model.wall.get(x.id)?.status ?? 'UNKNOWN') ? 0 : 1);
  const projects = [...model.projects.values()].sort((a, b) => order(a) - order(b) || a.fullName.localeCompare(b.fullName));
  if (projects.length === 0) return <p class="empty">No project matches these filters.</p>;
  return (
    <section class="wall" aria-label="wall">
      {projects.map((project) => <Cell key={project.id} project={project} p={model.wall.get(project.id)} model={model} now={now} />)}
    </section>
  );
}
