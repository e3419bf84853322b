import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

/** Buckets a simulator request path into what the poller asked for. */
function kind(path: string): string {
  const p = path.split('?')[0]!;
  if (p === '/api/json') return 'root';
  if (p === '/queue/api/json') return 'queue';
  if (p === '/computer/api/json') return 'computer';
  if (p.startsWith('/queue/item/')) return 'queue-item';
  if (/\/wfapi\/describe$/.test(p) && p.includes('/execution/node/')) return 'stage-steps';
  if (/\/wfapi\/describe$/.test(p)) return 'wfapi';
  if (/^(\/job\/[^/]+)+\/api\/json$/.test(p)) return 'job-builds';
  return 'other';
}

function tally(paths: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of paths) out[kind(p)] = (out[kind(p)] ?? 0) + 1;
  return out;
}

describe('jenkins poller cost on a 200-job controller', () => {
  let stack: JenkinsStack;
  const cycle = async () => {
    stack.sim.resetRequests();
    await stack.gateway.scheduler.pollNow('jk');
    return stack.sim.requests.map((r) => r.path);
  };

  beforeAll(async () => {
    stack = await startJenkinsStack({
      notify: false,
      sim: { jobs: 200, history: 2, agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'big', labels: ['linux'], executors: 8 }] },
    });
  });
  afterAll(() => stack.close());

  it('makes 3 requests per idle cycle and 3 + O(changed jobs) when jobs change', async () => {
    const baseline = await cycle();
    const idle = await cycle();
    expect(tally(idle)).toEqual({ root: 1, queue: 1, computer: 1 });

    // Three jobs change: two Pipeline jobs and a freestyle job get a build.
    const changed = ['pipeline-002', 'pipeline-004', 'freestyle-001'];
    for (const job of changed) await stack.sim.triggerBuild({ job });
    const queued = await cycle(); // queued only: nothing started yet
    for (let i = 0; i < 3; i++) await stack.sim.step(); // each starts
    const started = await cycle();
    await stack.sim.runUntilIdle();
    const finished = await cycle();
    const after = await cycle();

    const report = { baseline: tally(baseline), idle: tally(idle), queued: tally(queued), started: tally(started), finished: tally(finished), idleAgain: tally(after) };
    console.log(`[jenkins poller] requests per cycle, 200 jobs, 3 changed: ${JSON.stringify(report)}`);

    expect(tally(queued)).toEqual({ root: 1, queue: 1, computer: 1 });
    // One builds read per changed job; wfapi + step describes only for the two Pipeline builds.
    expect(started.length).toBeLessThanOrEqual(3 + changed.length * 4);
    expect(tally(started)['job-builds']).toBe(3);
    expect(tally(started).wfapi).toBe(2);
    expect(tally(finished)['job-builds']).toBe(3);
    expect(finished.length).toBeLessThanOrEqual(3 + changed.length * 4);
    expect(tally(after)).toEqual({ root: 1, queue: 1, computer: 1 });
    // The root scan is one request whatever the job count, and every request is tree-limited.
    for (const p of [...idle, ...started].filter((x) => kind(x) !== 'wfapi' && kind(x) !== 'stage-steps')) expect(p).toContain('tree=');
    // Baseline: no detail reads for jobs that are not building.
    expect(tally(baseline)).toEqual({ root: 1, queue: 1, computer: 1 });
  });
});
