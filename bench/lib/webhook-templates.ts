import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';

type Json = Record<string, unknown>;

export interface JobTemplates {
  /** Parsed `workflow_job` webhook bodies as the simulator sends them, one per action. */
  readonly queued: Json;
  readonly in_progress: Json;
  readonly completed: Json;
}

/**
 * Captures one real `workflow_job` queued / in_progress / completed body from
 * the simulator: points its webhook at a throwaway 127.0.0.1 sink, runs one
 * single-job workflow to completion on a self-hosted Linux runner, and keeps the
 * bodies. The run it adds to the simulator's world is harmless to the REST side.
 */
export async function captureJobTemplates(sim: GithubSimulator, secret: string): Promise<JobTemplates> {
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  try {
    const { port } = sink.address() as AddressInfo;
    const before = sim.deliveries.length;
    sim.setWebhook({ url: `http://127.0.0.1:${port}/`, secret });
    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'template', labels: ['self-hosted', 'Linux', 'X64'], outcome: 'success' }] });
    await sim.runUntilIdle(200);
    const jobs = sim.deliveries.slice(before).filter((d) => d.event === 'workflow_job');
    const pick = (action: string, last = false): Json => {
      const found = last ? jobs.filter((d) => d.action === action).at(-1) : jobs.find((d) => d.action === action);
      if (!found) throw new Error(`simulator sent no workflow_job ${action} (saw ${jobs.map((d) => d.action).join(', ')})`);
      return JSON.parse(found.body) as Json;
    };
    return { queued: pick('queued'), in_progress: pick('in_progress'), completed: pick('completed', true) };
  } finally {
    sim.setWebhook(null);
    sink.closeAllConnections();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

export type Phase = 'queued' | 'in_progress' | 'completed';
export const PHASES: readonly Phase[] = ['queued', 'in_progress', 'completed'];

const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const isoMillis = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/**
 * One `workflow_job` body: the template for `phase`, with the job's id and name
 * replaced and its timestamps set from `times` (wall-clock ms). Steps keep the
 * template's shape; their non-null times move to the job's start/finish.
 */
export function jobBody(t: JobTemplates, phase: Phase, jobId: number, name: string, times: { created: number; started: number; completed: number }): string {
  const tpl = t[phase];
  const job = tpl.workflow_job as Json;
  const steps = Array.isArray(job.steps) ? (job.steps as Json[]) : [];
  const body: Json = {
    ...tpl,
    workflow_job: {
      ...job,
      id: jobId,
      node_id: `CR_bench_${jobId}`,
      name,
      url: String(job.url).replace(/\/jobs\/\d+$/, `/jobs/${jobId}`),
      html_url: String(job.html_url).replace(/\/job\/\d+$/, `/job/${jobId}`),
      check_run_url: String(job.check_run_url).replace(/\/check-runs\/\d+$/, `/check-runs/${jobId}`),
      created_at: isoSeconds(times.created),
      started_at: isoSeconds(phase === 'queued' ? times.created : times.started),
      completed_at: phase === 'completed' ? isoSeconds(times.completed) : null,
      steps: steps.map((s) => ({
        ...s,
        started_at: s.started_at === null ? null : isoMillis(times.started),
        completed_at: s.completed_at === null ? null : isoMillis(times.completed),
      })),
    },
  };
  return JSON.stringify(body);
}
