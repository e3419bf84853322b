/**
 * The GitLab simulator's job trace (`GET /api/v4/projects/:id/jobs/:job_id/trace`) as a client sees
 * it: text/plain and 200 for a build (empty until it started), 404 with GitLab's JSON body for an
 * unknown job or a trigger job; a running job's scripted log grows with the simulator's clock, in
 * GitLab's section markers with ANSI colours, reaches several MB for a long job, and ends with the
 * footer once the job finished; trace requests are counted per job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';

const TOKEN = 'glpat-trace-simulator-0123456789';
const ESC = '\u001b';

describe('gitlab simulator: job traces', () => {
  let sim: GitlabSimulator;
  let clock = Date.parse('2026-05-04T09:00:00Z');
  let project: number;

  beforeAll(async () => {
    sim = createGitlabSimulator({
      token: TOKEN, seed: 5, history: 0, now: () => new Date(clock),
      runners: [{ description: 'big', tags: [], type: 'instance_type', concurrent: 10 }],
    });
    await sim.start();
    project = sim.world.projects().find((p) => p.path === 'backend')!.id;
  });
  afterAll(() => sim?.stop());

  const trace = async (jobId: number | string) => {
    const res = await fetch(`${sim.url}/projects/${project}/jobs/${jobId}/trace`, { headers: { 'PRIVATE-TOKEN': TOKEN } });
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };
  const statusOf = (id: number) => sim.world.jobs().find((j) => j.id === id)?.status;
  const startJob = async (name: string): Promise<number> => {
    const { jobIds: [id] } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name, stage: 'test' }] });
    for (let i = 0; i < 10 && statusOf(id!) !== 'running'; i++) await sim.step();
    expect(statusOf(id!)).toBe('running');
    return id!;
  };

  it('grows while a demo job runs, in GitLab sections with ANSI colours, then ends with the footer', async () => {
    const { jobIds: [id] } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
    // Not started: GitLab serves an empty trace (build.trace.raw || ''), not a 404.
    const before = await trace(id!);
    expect([before.status, before.type, before.bytes.length]).toEqual([200, 'text/plain', 0]);
    for (let i = 0; i < 10 && statusOf(id!) !== 'running'; i++) await sim.step();

    const sizes: number[] = [];
    let previous = Buffer.alloc(0);
    for (let t = 0; t < 4; t++) {
      clock += 60_000;
      const now = await trace(id!);
      expect(now.status).toBe(200);
      // Growing: the earlier trace is a prefix of the later one.
      expect(now.bytes.subarray(0, previous.length).equals(previous)).toBe(true);
      sizes.push(now.bytes.length);
      previous = now.bytes;
    }
    expect(sizes[0]).toBeGreaterThan(0);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]!);
    const running = previous.toString('utf8');
    expect(running).toMatch(new RegExp(`^section_start:\\d{10}:prepare_executor\\r${ESC}\\[0KPreparing the environment\\n`));
    expect(running).toMatch(new RegExp(`section_end:\\d{10}:prepare_executor\\r${ESC}\\[0K\\n`));
    expect(running).toContain(`${ESC}[32m`);
    expect(running).not.toContain('Job succeeded');

    await sim.finishJob(id!);
    const done = (await trace(id!)).bytes.toString('utf8');
    expect(done.startsWith(running)).toBe(true);
    expect(done).toMatch(new RegExp(`section_end:\\d{10}:upload_artifacts\\r${ESC}\\[0K\\n`));
    expect(done.endsWith(`${ESC}[32mJob succeeded${ESC}[0m\n`)).toBe(true);
    // Section times are the job's clock, in Unix seconds.
    const first = Number(/section_start:(\d+):/.exec(done)![1]);
    expect(first * 1000).toBeGreaterThanOrEqual(Date.parse(sim.world.jobs().find((j) => j.id === id)!.startedAt!) - 1000);
  });

  it('writes several MB for a long job', async () => {
    const id = await startJob('e2e:browser');
    clock += 40 * 60_000;
    const whole = await trace(id);
    expect(whole.bytes.length).toBeGreaterThan(2_000_000);
    await sim.finishJob(id);
  });

  it('serves exactly what a test appends to a job it took over, then the footer', async () => {
    const id = await startJob('exact');
    sim.logs.startEmpty(id);
    expect((await trace(id)).bytes.length).toBe(0);
    sim.logs.append(id, 'größe ✓\n');
    expect((await trace(id)).bytes.toString('utf8')).toBe('größe ✓\n');
    await sim.finishJob(id);
    expect((await trace(id)).bytes.toString('utf8')).toBe(`größe ✓\n${ESC}[32mJob succeeded${ESC}[0m\n`);
    expect(sim.logs.requests(id)).toBe(3);
    sim.logs.erase(id);
    expect((await trace(id)).bytes.length).toBe(0);
  });

  it('answers 404 with GitLab\'s body for an unknown job and for a trigger job', async () => {
    const unknown = await trace(999_999);
    expect([unknown.status, unknown.bytes.toString('utf8')]).toEqual([404, '{"message":"404 Not found"}']);
    const { jobIds } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'x', stage: 'build' }], downstream: true });
    const bridge = sim.world.jobs().find((j) => jobIds.includes(j.id) && j.kind === 'bridge')!;
    expect((await trace(bridge.id)).status).toBe(404);
  });
});
