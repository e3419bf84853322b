import { afterEach, describe, expect, it } from 'vitest';
import jenkinsAdapter from '../../adapters/jenkins/index.ts';
import { jobPath } from '../../adapters/jenkins/native-ids.ts';
import { createJenkinsSimulator, type JenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import { fullName } from '../../adapters/jenkins/simulator/world-entities.ts';
import { contractContext } from '../contract/adapter-context.ts';

/** The simulated controller's build consoles: realistic, growing with the clock, served as LargeText does. */
let sim: JenkinsSimulator | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

const JOB = 'team-a/service';
const T0 = Date.parse('2026-03-02T09:00:00Z');

async function startRunningBuild(clock: { ms: number }) {
  sim = createJenkinsSimulator({ seed: 21, history: 0, now: () => new Date(clock.ms) });
  await sim.start();
  await sim.triggerBuild({ job: JOB });
  await sim.step();
  const build = sim.world.builds(JOB)[0]!;
  expect(build.building).toBe(true);
  return build.number;
}

async function progressive(number: number, start: number) {
  const res = await fetch(`${sim!.url}${jobPath(JOB).slice(1)}/${number}/logText/progressiveText?start=${start}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain;charset=utf-8');
  const body = Buffer.from(await res.arrayBuffer());
  return { body, size: Number(res.headers.get('x-text-size')), more: res.headers.get('x-more-data') === 'true' };
}

describe('jenkins simulator: build consoles', () => {
  it('grows a running build\'s console with the clock, in Pipeline sections, then ends it with Finished:', async () => {
    const clock = { ms: T0 };
    const number = await startRunningBuild(clock);
    clock.ms += 5_000;
    const first = await progressive(number, 0);
    expect(first.more).toBe(true);
    expect(first.size).toBe(first.body.length);
    const head = first.body.toString('utf8');
    expect(head).toMatch(/^Started by .*\n\[Pipeline\] Start of Pipeline\n/);
    expect(head).toContain('[Pipeline] stage\n[Pipeline] { (');
    // Whole lines only while running.
    expect(head.endsWith('\n')).toBe(true);

    clock.ms += 40_000;
    const later = await progressive(number, first.size);
    expect(later.more).toBe(true);
    expect(later.body.length).toBeGreaterThan(0);
    expect(later.size).toBe(first.size + later.body.length);
    expect(later.body.toString('utf8')).toMatch(/\[Pipeline\] \}\n\[Pipeline\] \/\/ stage\n/);
    // ANSI colours are kept.
    expect(later.body.includes(Buffer.from('\u001b['))).toBe(true);

    await sim!.runUntilIdle();
    const rest = await progressive(number, later.size);
    expect(rest.more).toBe(false);
    expect(rest.body.toString('utf8')).toMatch(/\[Pipeline\] End of Pipeline\nFinished: (SUCCESS|UNSTABLE|FAILURE|ABORTED)\n$/);
    const whole = Buffer.concat([first.body, later.body, rest.body]);
    const consoleText = Buffer.from(await (await fetch(`${sim!.url}${jobPath(JOB).slice(1)}/${number}/consoleText`)).arrayBuffer());
    expect(whole.equals(consoleText)).toBe(true);
    expect(sim!.logRequests(JOB, number)).toBe(4);
    // Past the end: LargeText reads from 0 ("text rolled over").
    const past = await progressive(number, whole.length + 10);
    expect(past.body.equals(whole)).toBe(true);
    expect(past.size).toBe(whole.length);
  });

  it('writes several MB for a long build', async () => {
    const clock = { ms: T0 };
    const number = await startRunningBuild(clock);
    clock.ms += 40 * 60_000;
    await sim!.runUntilIdle();
    const whole = await progressive(number, 0);
    expect(whole.more).toBe(false);
    expect(whole.size).toBe(whole.body.length);
    expect(whole.size).toBeGreaterThan(3_000_000);
  });

  it('serves at most 10,000 whole lines per answer while the build runs, everything once it ended', async () => {
    sim = createJenkinsSimulator({ seed: 22, history: 0, logs: 'exact' });
    await sim.start();
    await sim.triggerBuild({ job: JOB });
    await sim.step();
    const number = sim.world.builds(JOB)[0]!.number;
    sim.appendLog(JOB, number, 'line\n'.repeat(12_000) + 'partial');
    const first = await progressive(number, 0);
    expect(first).toMatchObject({ more: true, size: 10_000 * 5 });
    const second = await progressive(number, first.size);
    expect(second).toMatchObject({ more: true, size: 12_000 * 5 });
    expect(second.body.toString('utf8')).toBe('line\n'.repeat(2_000));
    await sim.runUntilIdle();
    const rest = await progressive(number, second.size);
    expect(rest.more).toBe(false);
    expect(rest.body.toString('utf8')).toMatch(/^partial/);
  });
  it('makes the same console for a build whichever builds were read before it', async () => {
    const consoles = async (order: 'forward' | 'backward') => {
      const one = createJenkinsSimulator({ seed: 23, jobs: 2, history: 3, now: () => new Date(T0) });
      await one.start();
      try {
        const builds = one.world.builds().map((b) => ({ job: jobPath(fullName(b.job)), number: b.number }));
        const out = new Map<string, string>();
        for (const b of order === 'forward' ? builds : [...builds].reverse()) {
          out.set(`${b.job}#${b.number}`, await (await fetch(`${one.url}${b.job.slice(1)}/${b.number}/consoleText`)).text());
        }
        return out;
      } finally {
        await one.stop();
      }
    };
    const forward = await consoles('forward');
    const backward = await consoles('backward');
    expect(forward.size).toBe(6);
    // Compared as a boolean: a failure would otherwise print megabytes of console.
    for (const [key, text] of forward) expect(backward.get(key) === text, key).toBe(true);
  });
});

describe('jenkins logs: the read\'s signal', () => {
  it('aborts a progressiveText request the upstream holds when the read\'s signal aborts', async () => {
    const clock = { ms: T0 };
    const number = await startRunningBuild(clock);
    const adapter = jenkinsAdapter.create(jenkinsAdapter.configSchema.parse({ url: sim!.url, user: 'admin', apiToken: { value: 'unused' }, requestTimeoutMs: 120_000 }), contractContext('jk'));
    sim!.setFault({ hang: true, match: /progressiveText/ });
    const controller = new AbortController();
    const read = adapter.logs!.read(`${JOB}#${number}/build`, 0, controller.signal);
    const settled = read.then(() => 'resolved', (e: unknown) => e);
    // Barrier: the request reached the simulator (held, status 0) before the abort.
    while (!sim!.requests.some((r) => r.path.includes('progressiveText') && r.status === 0)) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('deadline'));
    expect(await settled).toMatchObject({ message: 'deadline' });
    await adapter.dispose();
  });
});
