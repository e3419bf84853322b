/**
 * GitHub job logs (issue 17) at adapter level against the simulator: the 302 to the signed URL
 * on the blob host (another origin) is followed without the token, an expired URL is asked for
 * afresh once, a job with no log reads null, and the simulator's logs look like GitHub's.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import githubAdapterFactory from '../../adapters/github/index.ts';
import { formatJobId } from '../../adapters/github/native-ids.ts';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import type { BackendAdapter, BackendLogs } from '../../src/adapter-contract.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';
import type { JobModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';

const READ = 'ghp_read_token_for_log_tests_000';
const REPO = 'octo-org/api';
const signal = () => AbortSignal.timeout(10_000);
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z /;

let sim: GithubSimulator;
let adapter: BackendAdapter;
let logs: BackendLogs;

beforeAll(async () => {
  sim = createGithubSimulator({ token: READ, seed: 21, repositories: ['api'], history: 0 });
  await sim.start();
  const config = githubAdapterFactory.configSchema.parse({ url: sim.url, token: { value: READ }, repositories: [REPO] });
  adapter = githubAdapterFactory.create(config, contractContext('gh-logs'));
  logs = adapter.logs!;
}, 30_000);

afterAll(async () => {
  await adapter?.dispose();
  await sim?.stop();
});

beforeEach(() => sim.resetRequests());

/** A finished job (hosted runner, scripted log); its numeric id. */
async function finishedJob(outcome: 'success' | 'failure' = 'success'): Promise<number> {
  const { jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'test', labels: ['ubuntu-latest'], outcome }] });
  await sim.runUntilIdle();
  return jobIds[0]!;
}

async function job(jobId: number): Promise<JobModel> {
  const [loaded] = await adapter.batch.jobs([formatJobId(REPO, jobId)], signal());
  if (!loaded || loaded instanceof Error) throw new Error(`job ${jobId} did not load`);
  return loaded;
}

const blobsSince = (from: number) => sim.logs.blobRequests.slice(from);

describe('github logs: the signed redirect', () => {
  it('reads the log from the blob host, another origin, and the token never reaches it', async () => {
    const id = await finishedJob();
    const before = sim.logs.blobRequests.length;
    const read = (await logs.read(formatJobId(REPO, id), 0, signal()))!;
    expect(read.complete).toBe(true);
    expect(new URL(sim.logs.blobUrl).origin).not.toBe(new URL(sim.url).origin);
    // The API request carried the read token, and only it: one request for the log.
    expect(sim.logs.apiRequests(id)).toBe(1);
    expect(sim.credentials.filter((c) => c.path.includes(`/jobs/${id}/logs`)).map((c) => c.credential)).toEqual(['read']);
    // The blob host served it, and no request there carried an Authorization header.
    expect(blobsSince(before)).toEqual([expect.objectContaining({ method: 'GET', authorization: false, status: 200 })]);
    expect(sim.logs.blobRequests.every((r) => !r.authorization)).toBe(true);
    expect(Buffer.from(read.bytes).toString('utf8')).toContain('##[group]');
  });

  it('the blob host refuses a request carrying a token, and records it', async () => {
    const id = await finishedJob();
    const location = (await fetch(`${sim.url}/repos/${REPO}/actions/jobs/${id}/logs`, { headers: { authorization: `token ${READ}` }, redirect: 'manual' })).headers.get('location')!;
    expect(new URL(location).origin).toBe(new URL(sim.logs.blobUrl).origin);
    const before = sim.logs.blobRequests.length;
    const res = await fetch(location, { headers: { authorization: `token ${READ}` } });
    expect(res.status).toBe(400);
    expect(blobsSince(before)).toEqual([expect.objectContaining({ authorization: true, status: 400 })]);
    // Without it, the same URL serves the log; a tampered signature does not.
    expect((await fetch(location)).status).toBe(200);
    const tampered = new URL(location);
    // Its first character changed (to a different one: a signature may already start with 'x').
    const sig = tampered.searchParams.get('sig')!;
    tampered.searchParams.set('sig', `${sig.startsWith('x') ? 'y' : 'x'}${sig.slice(1)}`);
    expect((await fetch(tampered)).status).toBe(403);
  });

  it('asks the API again once when the signed URL expired before it was used', async () => {
    const id = await finishedJob();
    const whole = (await logs.read(formatJobId(REPO, id), 0, signal()))!;
    sim.resetRequests();
    const before = sim.logs.blobRequests.length;
    sim.logs.expireNextUrls(1);
    const again = (await logs.read(formatJobId(REPO, id), 0, signal()))!;
    expect(Buffer.from(again.bytes).equals(Buffer.from(whole.bytes))).toBe(true);
    expect(sim.logs.apiRequests(id)).toBe(2);
    expect(blobsSince(before).map((r) => r.status)).toEqual([403, 200]);
  });

  it('fails with a clear UpstreamError when the fresh URL is refused too, without the signature in the message', async () => {
    const id = await finishedJob();
    sim.logs.expireNextUrls(2);
    const error = await logs.read(formatJobId(REPO, id), 0, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    const upstream = error as UpstreamError;
    expect(upstream.backend).toBe('gh-logs');
    expect(upstream.code).toBe(ErrorCode.UpstreamBadResponse);
    expect(upstream.message).toMatch(/signed log URL.*403.*Signature not valid/);
    expect(upstream.message).not.toMatch(/sig=|se=|\?/);
    expect(upstream.message).not.toContain(READ);
    // Exactly one re-request: two API requests in all.
    expect(sim.logs.apiRequests(id)).toBe(2);
  });
});

describe('github logs: availability and jobs with no log', () => {
  it('a running job is AFTER_COMPLETION and reads null (GitHub answers 404 until it completes); then it reads once', async () => {
    const { jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['ubuntu-latest'], steps: ['a', 'b'] }] });
    const id = jobIds[0]!;
    expect(logs.availability(await job(id)).kind).toBe('AFTER_COMPLETION');
    await sim.step();
    expect((await job(id)).status).toBe('RUNNING');
    expect(logs.availability(await job(id))).toEqual({ kind: 'AFTER_COMPLETION', reason: expect.stringMatching(/only once the job has completed/) });
    expect(await logs.read(formatJobId(REPO, id), 0, signal())).toBeNull();
    await sim.finishJob(id);
    expect(logs.availability(await job(id)).kind).toBe('AFTER_COMPLETION');
    const read = (await logs.read(formatJobId(REPO, id), 0, signal()))!;
    expect(Buffer.from(read.bytes).toString('utf8')).toMatch(/Job succeeded/);
    expect(sim.logs.apiRequests(id)).toBe(2);
  });

  it('a skipped job has NONE and reads null', async () => {
    const { jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'deploy', outcome: 'skipped' }] });
    const id = jobIds[0]!;
    expect(logs.availability(await job(id)).kind).toBe('NONE');
    expect(await logs.read(formatJobId(REPO, id), 0, signal())).toBeNull();
  });

  it('410 Gone (an expired log) reads null; a 5xx is an UpstreamError naming the backend', async () => {
    const id = await finishedJob();
    sim.setFault({ status: 410, match: /\/logs$/, body: { message: 'Gone' } });
    try {
      expect(await logs.read(formatJobId(REPO, id), 0, signal())).toBeNull();
      sim.setFault({ status: 502, match: /\/logs$/ });
      await expect(logs.read(formatJobId(REPO, id), 0, signal())).rejects.toMatchObject({ backend: 'gh-logs', code: ErrorCode.UpstreamUnavailable });
    } finally {
      sim.setFault(null);
    }
  });

  it('a job outside the configured repositories reads null without a request', async () => {
    expect(await logs.read('other-org/x/jobs/1', 0, signal())).toBeNull();
    expect(await logs.read('not-a-job-id', 0, signal())).toBeNull();
    expect(sim.requests).toEqual([]);
  });
});

describe('github simulator: logs look like GitHub\'s', () => {
  it('every line carries a 7-digit timestamp, sections are ##[group]/##[endgroup], ANSI colours kept', async () => {
    const id = await finishedJob('failure');
    const text = Buffer.from((await logs.read(formatJobId(REPO, id), 0, signal()))!.bytes).toString('utf8');
    const lines = text.split('\n').slice(0, -1);
    expect(text.endsWith('\n')).toBe(true);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toMatch(STAMP);
    const opens = lines.filter((l) => / ##\[group\]/.test(l)).length;
    expect(opens).toBeGreaterThan(0);
    expect(lines.filter((l) => / ##\[endgroup\]$/.test(l)).length).toBe(opens);
    expect(text).toContain('\u001b[');
    expect(text).toMatch(/ERROR: Job failed/);
  });

  it('history jobs completed before the simulator ran have their log too', async () => {
    const past = createGithubSimulator({ token: READ, seed: 5, repositories: ['api'], history: 1 });
    await past.start();
    try {
      const done = past.world.jobs().find((j) => j.status === 'completed' && j.runnerId !== null)!;
      const res = await fetch(`${past.url}/repos/${REPO}/actions/jobs/${done.id}/logs`, { headers: { authorization: `token ${READ}` }, redirect: 'manual' });
      expect(res.status).toBe(302);
      const body = await (await fetch(res.headers.get('location')!)).text();
      expect(body).toMatch(STAMP);
      expect(body.length).toBeGreaterThan(1_000);
    } finally {
      await past.stop();
    }
  });
});
