import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.ts';
import type { JobModel } from '../../src/model.ts';
import { buildkiteLogAvailability, createBuildkiteLogs } from '../../adapters/buildkite/logs.ts';

/**
 * The Buildkite log reader against a small HTTP server on 127.0.0.1 that serves `log.txt` as
 * Buildkite does (Range → 206 with Content-Range, past the end → 416), and variants: a server that
 * ignores Range, a 403 for a token without read_build_logs, redirects on and off the origin.
 */
const READ = 'bkua_read_token_0123456789abcdef';
const JOB = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a59';
const PATH = `/v2/organizations/acme/pipelines/web/builds/42/jobs/${JOB}/log.txt`;
// Buildkite's line timestamps (APC), a group header, colours and a multi-byte character.
const LOG = Buffer.from('\u001b_bk;t=1764964800000\u0007--- :hammer: build\n\u001b_bk;t=1764964800123\u0007\u001b[32mgrün ✓\u001b[0m\n', 'utf8');

interface Seen { path: string; auth: string | undefined; range: string | undefined }
let mode: 'ranges' | 'aligned' | 'ignore-range' | 'grow' | 'forbidden' | 'redirect-same' | 'redirect-other' = 'ranges';
const seen: Seen[] = [];
let server: Server;
let other: Server;
let base: string;
let otherBase: string;

/** What the log holds now; 'grow' appends to it after each HEAD (the agent uploading meanwhile). */
let current = LOG;
const GROWTH = Buffer.from('more output\n');

function serveLog(req: IncomingMessage, res: ServerResponse, honourOpenRange: boolean): void {
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(current.length) }).end();
    if (mode === 'grow') current = Buffer.concat([current, GROWTH]);
    return;
  }
  const suffix = /^bytes=-(\d+)$/.exec(req.headers.range ?? '');
  if (suffix) {
    const n = Math.min(current.length, Number(suffix[1]));
    res.writeHead(206, { 'content-range': `bytes ${current.length - n}-${current.length - 1}/${current.length}` }).end(current.subarray(current.length - n));
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!m || !honourOpenRange) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(current);
    return;
  }
  // 'aligned': a server (or cache) that answers from the 8-byte block the offset falls in.
  const start = mode === 'aligned' ? Number(m[1]) - (Number(m[1]) % 8) : Number(m[1]);
  if (start >= current.length) {
    res.writeHead(416, { 'content-range': `bytes */${current.length}` }).end();
    return;
  }
  res.writeHead(206, { 'content-range': `bytes ${start}-${current.length - 1}/${current.length}` }).end(current.subarray(start));
}

beforeAll(async () => {
  other = createServer((req, res) => {
    seen.push({ path: `other:${req.url}`, auth: req.headers.authorization, range: req.headers.range });
    serveLog(req, res, true);
  });
  server = createServer((req, res) => {
    seen.push({ path: `${req.method} ${req.url ?? ''}`, auth: req.headers.authorization, range: req.headers.range });
    if (req.url === '/stored/log') return serveLog(req, res, true);
    if (req.url !== PATH) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No job found"}');
    if (mode === 'forbidden') return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
    if (mode === 'redirect-same') return void res.writeHead(302, { location: '/stored/log' }).end();
    if (mode === 'redirect-other') return void res.writeHead(302, { location: `${otherBase}/signed/log?sig=1` }).end();
    serveLog(req, res, mode !== 'ignore-range' && mode !== 'grow');
  });
  await Promise.all([server, other].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`.replace('127.0.0.1', 'localhost');
});
afterAll(async () => {
  await Promise.all([server, other].map((s) => new Promise((r) => s.close(r))));
});

const logs = (covers: (slug: string) => boolean = () => true) =>
  createBuildkiteLogs({ backend: 'bk', organization: 'acme', url: base, token: READ, timeoutMs: 2_000, now: () => new Date(), covers });
const signal = () => AbortSignal.timeout(5_000);
const id = `web/42/${JOB}`;

describe('buildkite logs: read', () => {
  it('reads the raw bytes from any offset with Range; APC timestamps, headers, ANSI and split characters kept', async () => {
    mode = 'ranges';
    seen.length = 0;
    const whole = (await logs().read(id, 0, signal()))!;
    expect(Buffer.from(whole.bytes).equals(LOG)).toBe(true);
    expect(whole.complete).toBe(false);
    // Inside "ü": the second byte onwards, never decoded.
    const inside = LOG.indexOf(Buffer.from('ü')) + 1;
    const tail = (await logs().read(id, inside, signal()))!;
    expect(Buffer.from(tail.bytes).equals(LOG.subarray(inside))).toBe(true);
    expect(seen.map((s) => [s.range, s.auth])).toEqual([[undefined, `Bearer ${READ}`], [`bytes=${inside}-`, `Bearer ${READ}`]]);
  });

  it('at or past the end: empty bytes (416), not an error', async () => {
    mode = 'ranges';
    expect((await logs().read(id, LOG.length, signal()))!.bytes.length).toBe(0);
    expect((await logs().read(id, LOG.length + 50, signal()))!.bytes.length).toBe(0);
  });

  it('a 206 that starts before the offset: cut at the offset', async () => {
    mode = 'aligned';
    const tail = (await logs().read(id, 13, signal()))!;
    expect(Buffer.from(tail.bytes).equals(LOG.subarray(13))).toBe(true);
  });

  it('a server that ignores open ranges: cut at the offset, then HEAD for the size and a suffix range', async () => {
    mode = 'ignore-range';
    current = LOG;
    const reader = logs();
    seen.length = 0;
    const tail = (await reader.read(id, 10, signal()))!;
    expect(Buffer.from(tail.bytes).equals(LOG.subarray(10))).toBe(true);
    // Learned: nothing new past the end costs one HEAD; a grown log a HEAD and the suffix it lacks.
    expect((await reader.read(id, LOG.length, signal()))!.bytes.length).toBe(0);
    current = Buffer.concat([LOG, GROWTH]);
    const grown = (await reader.read(id, LOG.length, signal()))!;
    expect(Buffer.from(grown.bytes).equals(GROWTH)).toBe(true);
    expect(seen.map((s) => `${s.path.split(' ')[0]} ${s.range ?? ''}`)).toEqual(['GET bytes=10-', 'HEAD ', 'HEAD ', `GET bytes=-${GROWTH.length}`]);
  });

  it('a log that grows between HEAD and the suffix read: asked again, no byte lost', async () => {
    mode = 'ignore-range';
    current = LOG;
    const reader = logs();
    await reader.read(id, 1, signal());
    mode = 'grow';
    const tail = (await reader.read(id, 5, signal()))!;
    expect(Buffer.from(tail.bytes).equals(current.subarray(5))).toBe(true);
    expect(current.length).toBe(LOG.length + GROWTH.length);
    mode = 'ranges';
    current = LOG;
  });

  it('null for an unknown job (404), and for ids outside the pipelines or malformed, without a request', async () => {
    mode = 'ranges';
    expect(await logs().read(`web/43/${JOB}`, 0, signal())).toBeNull();
    seen.length = 0;
    expect(await logs((slug) => slug !== 'web').read(id, 0, signal())).toBeNull();
    expect(await logs().read('web/42/not-a-uuid', 0, signal())).toBeNull();
    expect(await logs().read(id, -1, signal())).toBeNull();
    expect(seen).toEqual([]);
  });

  it('a 403 says the read token needs read_build_logs, and carries no token', async () => {
    mode = 'forbidden';
    const error = await logs().read(id, 0, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ backend: 'bk', code: 'UPSTREAM_UNAUTHORIZED', details: { status: 403 } });
    expect((error as Error).message).toContain('read_build_logs');
    expect((error as Error).message).not.toContain(READ);
  });

  it('follows a redirect with the token on the backend\'s origin only', async () => {
    mode = 'redirect-same';
    seen.length = 0;
    expect(Buffer.from((await logs().read(id, 0, signal()))!.bytes).equals(LOG)).toBe(true);
    expect(seen.map((s) => s.auth)).toEqual([`Bearer ${READ}`, `Bearer ${READ}`]);
    mode = 'redirect-other';
    seen.length = 0;
    const tail = (await logs().read(id, 5, signal()))!;
    expect(Buffer.from(tail.bytes).equals(LOG.subarray(5))).toBe(true);
    expect(seen.map((s) => [s.path.includes('other:'), s.auth, s.range])).toEqual([[false, `Bearer ${READ}`, 'bytes=5-'], [true, undefined, 'bytes=5-']]);
  });

  it('passes the signal to the request', async () => {
    mode = 'ranges';
    await expect(logs().read(id, 0, AbortSignal.abort(new Error('deadline')))).rejects.toThrow('deadline');
  });
});

describe('buildkite logs: availability', () => {
  const job = (status: JobModel['status'], native: string, startedAt: string | null): JobModel => ({
    type: 'Job', backend: 'bk', nativeId: id, revision: [1], projectNativeId: 'web', pipelineNativeId: 'web/42', name: 'build',
    status, waitReason: status === 'WAITING' ? 'APPROVAL' : null, native: { provider: 'buildkite', status: native, conclusion: null, failureReason: null },
    attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: 'main', createdAt: null, queuedAt: null, startedAt, finishedAt: null, steps: [],
  } as unknown as JobModel);
  const at = '2026-12-05T20:00:00Z';

  it('LIVE while running and once finished; NONE before it starts, when it never ran, and for block steps', () => {
    expect(buildkiteLogAvailability(job('RUNNING', 'running', at)).kind).toBe('LIVE');
    expect(buildkiteLogAvailability(job('CANCELING', 'canceling', at)).kind).toBe('LIVE');
    expect(buildkiteLogAvailability(job('FAILURE', 'failed', at)).kind).toBe('LIVE');
    expect(buildkiteLogAvailability(job('QUEUED', 'scheduled', null)).kind).toBe('NONE');
    expect(buildkiteLogAvailability(job('SKIPPED', 'broken', null)).reason).toMatch(/never|before an agent/);
    expect(buildkiteLogAvailability(job('WAITING', 'blocked', null)).reason).toMatch(/block step/);
    expect(buildkiteLogAvailability(job('SUCCESS', 'unblocked', null)).kind).toBe('NONE');
  });
});
