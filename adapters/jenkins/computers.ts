import type { RunnerModel } from '../../src/model.ts';
import type { JenkinsClient } from './client.ts';
import { asRecord, records, type Loose } from './fields.ts';
import { formatBuildJobId, refFromUrl } from './native-ids.ts';
import { isWorkflowClass, toRunner } from './normalize.ts';
import type { JobDirectory } from './projects.ts';
import { COMPUTERS_TREE } from './queries.ts';

/**
 * Every computer (agent) in ONE `/computer/api/json?tree=...` request. A
 * freestyle build running on an executor names its Job (`currentJobNativeId`);
 * Pipeline builds run their stages through placeholder tasks, whose Job the
 * stage's `execNode` reports instead (the core overlays it).
 */
export async function listComputers(client: JenkinsClient, backend: string, jobs: JobDirectory, observedAtMs: number, signal?: AbortSignal): Promise<RunnerModel[]> {
  const answer = await client.getJson('/computer/api/json', COMPUTERS_TREE, undefined, signal);
  return computersToRunners(backend, answer, jobs, observedAtMs);
}

export function computersToRunners(backend: string, answer: unknown, jobs: JobDirectory | null, observedAtMs: number): RunnerModel[] {
  const out: RunnerModel[] = [];
  for (const c of records(asRecord(answer)?.computer)) {
    try {
      out.push(toRunner(backend, c, observedAtMs, currentJobOf(c, jobs)));
    } catch {
      // A computer without a name cannot be addressed.
    }
  }
  return out;
}

function currentJobOf(computer: Loose, jobs: JobDirectory | null): string | null {
  for (const e of records(computer.executors)) {
    const ref = refFromUrl(asRecord(e.currentExecutable)?.url);
    if (!ref || ref.number === null) continue;
    const entry = jobs?.peek(ref.fullName);
    if (entry && !isWorkflowClass(entry.cls)) return formatBuildJobId(ref.fullName, ref.number);
  }
  return null;
}
