/**
 * Job logs as GitHub serves them (issue 17). `GET .../actions/jobs/{id}/logs` answers a completed
 * job 302 with a signed URL on a second loopback listener (the "blob host": another port, so
 * another origin), valid `urlTtlMs` (GitHub: about a minute). The blob host checks the signature
 * and expiry like Azure Blob storage (403 AuthenticationFailed otherwise) and refuses any request
 * that carries an Authorization header, recording it so a test can assert the token never
 * reached it. A job that has not completed answers 404 (the reference does not say what GitHub
 * answers then; `gh run view --log` refuses in-progress runs, and 404 is GitHub's "no log").
 *
 * Logs are SimLogBook's, in GitHub's style: every line after an ISO timestamp with 7 fraction
 * digits, sections as `##[group]Title` / `##[endgroup]`, ANSI kept. A job gets its scripted log
 * when it starts (an empty one in `exact` mode, for tests that write it) and the footer when it
 * completes; jobs completed before the simulator ran (seeded history) get theirs on first read.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimLogBook, type LogOutcome, type LogStyle } from '../../../sim-kit/job-log.ts';
import * as P from './payloads.ts';
import type { SimJob, WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';

/** `2026-01-01T10:00:00.0000000Z`: GitHub's log timestamps carry 7 fraction digits. */
export function logTimestamp(atMs: number): string {
  return new Date(atMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export const GITHUB_LOG_STYLE: LogStyle = {
  sectionStart: (_name, title, atMs) => `${logTimestamp(atMs)} ##[group]${title}\n`,
  sectionEnd: (_name, atMs) => `${logTimestamp(atMs)} ##[endgroup]\n`,
  linePrefix: (atMs) => `${logTimestamp(atMs)} `,
};

/** One request that reached the blob host (the path only: the query is the signature). */
export interface BlobRequestRecord {
  readonly method: string;
  readonly path: string;
  /** The request carried an Authorization header (it is refused 400, and this is what tests assert never happens). */
  readonly authorization: boolean;
  readonly status: number;
}

export interface JobLogsOptions {
  readonly world: World;
  readonly now: () => Date;
  /** `scripted`: realistic content as the job runs; `exact`: only what `append` writes (then the footer). */
  readonly mode: 'scripted' | 'exact';
  /** How long a signed URL is valid (GitHub: about a minute). */
  readonly urlTtlMs: number;
  /** The blob host's origin (known once it listens). */
  readonly blobOrigin: () => string;
  readonly seed: number;
}

export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const OUTCOME: Readonly<Record<string, LogOutcome>> = { success: 'success', failure: 'failure', timed_out: 'failure', cancelled: 'canceled' };
/** A live job's script is spread over this much time per planned step (a 4-step job: about a minute, 120 KB). */
const PLANNED_MS_PER_STEP = 15_000;
const BLOB_PATH = /^\/actions-results\/([^/]+)\/jobs\/(\d+)\/job-logs\.txt$/;

export class SimJobLogs {
  readonly blobRequests: BlobRequestRecord[] = [];
  private readonly book: SimLogBook;
  private readonly signingKey: Buffer;
  private expireNext = 0;
  /** Jobs holding a log, so the logs of pruned jobs are dropped with them (a demo runs for days). */
  private readonly logged = new Set<number>();

  constructor(private readonly opts: JobLogsOptions) {
    this.book = new SimLogBook(GITHUB_LOG_STYLE, opts.seed);
    this.signingKey = createHmac('sha256', 'github-sim-log-signing').update(String(opts.seed)).digest();
  }

  /** Follows the world's transitions: a started job gets its log, a completed one its footer. */
  observe(events: readonly WorldEvent[]): void {
    for (const ev of events) {
      if (ev.event !== 'workflow_job') continue;
      const job = this.opts.world.jobs.get(ev.jobId);
      if (!job) continue;
      if (ev.action === 'in_progress') this.start(job);
      else if (ev.action === 'completed') this.finish(job);
    }
    for (const id of this.logged) {
      if (this.opts.world.jobs.has(id)) continue;
      this.book.erase(String(id));
      this.logged.delete(id);
    }
  }

  /** Exact text, as the runner uploads it. */
  append(jobId: number, text: string): void {
    this.book.append(String(jobId), text, this.opts.now().getTime());
  }

  /** The next `count` signed URLs are issued already expired (as if the client waited past a minute). */
  expireNextUrls(count: number): void {
    this.expireNext += count;
  }

  /** `GET /repos/{owner}/{repo}/actions/jobs/{id}/logs`; null: the generic 404. */
  answerApi(repo: string, jobIdText: string): ApiReply | null {
    const job = /^\d+$/.test(jobIdText) ? this.opts.world.jobs.get(Number(jobIdText)) : undefined;
    if (!job || job.repo !== repo) return null;
    if (job.status !== 'completed') return { status: 404, body: P.notFound() };
    this.backfill(job);
    if (!this.book.read(String(job.id), this.opts.now().getTime())) return { status: 404, body: P.notFound() };
    return { status: 302, body: undefined, headers: { location: this.signedUrl(job) } };
  }

  /** The blob host: the plain-text log for a valid, unexpired signature and no Authorization header. */
  handleBlob(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://blob.invalid');
    const authorization = req.headers.authorization !== undefined;
    const reply = (status: number, body: Buffer | string, type: string): void => {
      this.blobRequests.push({ method, path: url.pathname, authorization, status });
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, { 'content-type': type, 'content-length': String(bytes.length), 'x-ms-version': '2021-12-02' });
      res.end(method === 'HEAD' ? undefined : bytes);
    };
    const error = (status: number, code: string, message: string) =>
      reply(status, `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, 'application/xml');

    if (authorization) return error(400, 'InvalidAuthenticationInfo', 'Authentication information is not given in the correct format. A signed URL takes no Authorization header.');
    if (method !== 'GET' && method !== 'HEAD') return error(405, 'UnsupportedHttpVerb', 'The resource doesn\'t support specified Http Verb.');
    const m = BLOB_PATH.exec(url.pathname);
    const expiry = url.searchParams.get('se') ?? '';
    if (!m || !this.validSignature(url.pathname, expiry, url.searchParams.get('sig') ?? '')) {
      return error(403, 'AuthenticationFailed', 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.');
    }
    const nowMs = this.opts.now().getTime();
    if (!(Date.parse(expiry) > nowMs)) {
      return error(403, 'AuthenticationFailed', `Signature not valid in the specified time frame: Expiry [${expiry}] - Current [${new Date(nowMs).toISOString()}]`);
    }
    const log = this.book.read(m[2]!, nowMs);
    if (!log) return error(404, 'BlobNotFound', 'The specified blob does not exist.');
    reply(200, log.bytes, 'text/plain; charset=utf-8');
  }

  private start(job: SimJob): void {
    const key = String(job.id);
    this.logged.add(job.id);
    if (this.opts.mode === 'exact') return this.book.startEmpty(key);
    this.book.start(key, { name: job.name, startedAtMs: Date.parse(job.startedAt), plannedDurationMs: job.plannedSteps.length * PLANNED_MS_PER_STEP });
  }

  private finish(job: SimJob): void {
    const outcome = job.conclusion === null ? undefined : OUTCOME[job.conclusion];
    if (outcome) this.book.finish(String(job.id), outcome, Date.parse(job.completedAt ?? this.opts.world.nowIso()));
  }

  /** A job that ran and completed before the simulator watched (seeded history): its whole log, once. */
  private backfill(job: SimJob): void {
    if (job.runnerId === null || this.book.read(String(job.id), this.opts.now().getTime())) return;
    const startedAtMs = Date.parse(job.startedAt);
    const completedAtMs = Date.parse(job.completedAt ?? job.startedAt);
    this.logged.add(job.id);
    this.book.start(String(job.id), { name: job.name, startedAtMs, plannedDurationMs: Math.max(1_000, completedAtMs - startedAtMs) });
    this.finish(job);
  }

  /** An Azure-style SAS URL: start, expiry and an HMAC of path and expiry. */
  private signedUrl(job: SimJob): string {
    const nowMs = this.opts.now().getTime();
    const expired = this.expireNext > 0;
    if (expired) this.expireNext--;
    const expiryMs = expired ? nowMs - 1_000 : nowMs + this.opts.urlTtlMs;
    const path = `/actions-results/${encodeURIComponent(job.repo)}/jobs/${job.id}/job-logs.txt`;
    const se = new Date(expiryMs).toISOString();
    const query = new URLSearchParams({
      sv: '2021-12-02', spr: 'https', st: new Date(expiryMs - this.opts.urlTtlMs).toISOString(), se, sr: 'b', sp: 'r', rsct: 'text/plain', sig: this.sign(path, se),
    });
    return `${this.opts.blobOrigin()}${path}?${query.toString()}`;
  }

  private sign(path: string, expiry: string): string {
    return createHmac('sha256', this.signingKey).update(`${path}\n${expiry}`).digest('base64');
  }

  private validSignature(path: string, expiry: string, sig: string): boolean {
    const want = Buffer.from(this.sign(path, expiry));
    const got = Buffer.from(sig);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
