/**
 * GitHub job logs without a network: offset slicing (raw bytes, any offset, never decoded), the
 * read against a fake client and storage (no credential and the caller's signal on the second
 * GET), availability (pure, never LIVE) and the simulator's timestamp format.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesAfter, createGithubLogs } from '../../adapters/github/logs.ts';
import { githubLogAvailability } from '../../adapters/github/logs-availability.ts';
import { logTimestamp } from '../../adapters/github/simulator/job-logs.ts';
import { CI_STATUSES, isTerminal, type JobModel } from '../../src/model.ts';

const clamp = (offset: number, length: number) => Math.min(length, Math.max(0, offset));

describe('bytesAfter', () => {
  it('gives exactly the bytes from any offset: prefix and rest make the whole, empty at or past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -5, max: 310 }), (whole, offset) => {
        const rest = bytesAfter(whole, offset);
        const from = clamp(offset, whole.length);
        expect(Buffer.from(rest).equals(Buffer.from(whole.subarray(from)))).toBe(true);
        expect(Buffer.concat([whole.subarray(0, from), rest]).equals(Buffer.from(whole))).toBe(true);
        if (offset >= whole.length) expect(rest.length).toBe(0);
      }),
    );
  });

  it('cuts inside a multi-byte character without decoding: the pieces rejoin to the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat(400), (text, raw) => {
        const bytes = Buffer.from(text, 'utf8');
        const offset = raw % (bytes.length + 1);
        const rest = bytesAfter(bytes, offset);
        expect(rest.length).toBe(bytes.length - offset);
        expect(rest[0]).toBe(bytes[offset]);
        expect(Buffer.concat([bytes.subarray(0, offset), rest]).toString('utf8')).toBe(text);
      }),
    );
  });
});

describe('read against a fake GitHub and storage', () => {
  const BLOB = 'https://results.blob.example/actions-results/1/job-logs.txt?se=2026-01-01T00%3A01%3A00Z&sig=abc';

  it('returns the bytes after any offset, complete, fetched with no credential and the caller\'s signal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 210 }), async (log, offset) => {
        const seen: { headers: Headers; signal: AbortSignal | null | undefined; url: string }[] = [];
        const caller = new AbortController();
        const logs = createGithubLogs({
          backend: 'gh',
          timeoutMs: 5_000,
          covers: () => true,
          client: { redirectOf: async () => new URL(BLOB) },
          fetch: async (input, init) => {
            seen.push({ headers: new Headers(init?.headers), signal: init?.signal, url: String(input) });
            return new Response(log, { status: 200 });
          },
        });
        const read = (await logs.read('octo-org/api/jobs/42', offset, caller.signal))!;
        expect(read.complete).toBe(true);
        expect(Buffer.from(read.bytes).equals(Buffer.from(log).subarray(clamp(offset, log.length)))).toBe(true);
        expect(seen).toHaveLength(1);
        expect(seen[0]!.url).toBe(BLOB);
        expect(seen[0]!.headers.has('authorization')).toBe(false);
        expect(seen[0]!.headers.has('cookie')).toBe(false);
        // The caller's signal reaches the second GET.
        expect(seen[0]!.signal?.aborted).toBe(false);
        caller.abort();
        expect(seen[0]!.signal?.aborted).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses to follow a redirect to a non-HTTP URL, naming the backend', async () => {
    const logs = createGithubLogs({
      backend: 'gh', timeoutMs: 5_000, covers: () => true,
      client: { redirectOf: async () => new URL('file:///etc/passwd') },
      fetch: () => Promise.reject(new Error('must not be called')),
    });
    await expect(logs.read('octo-org/api/jobs/42', 0, AbortSignal.timeout(5_000))).rejects.toThrow(/^\[gh\] GitHub redirected the log to a file: URL/);
  });
});

describe('githubLogAvailability', () => {
  const jobOf = (status: (typeof CI_STATUSES)[number], runner: string | null, steps: number): JobModel => ({
    type: 'Job', backend: 'gh', nativeId: 'o/r/jobs/1', revision: [0], projectNativeId: 'o/r', pipelineNativeId: 'o/r/runs/1',
    name: 'j', status, waitReason: null, native: { provider: 'github', status: null, conclusion: null } as unknown as JobModel['native'],
    attempt: 1, url: null, labels: [], runnerNativeId: runner, runnerName: runner, branch: null, createdAt: null, queuedAt: null,
    startedAt: null, finishedAt: null,
    steps: Array.from({ length: steps }, () => ({}) as JobModel['steps'][number]),
  });

  it('is never LIVE; AFTER_COMPLETION until the job ends; NONE only for a job that ended without running', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CI_STATUSES), fc.option(fc.constantFrom('7', 'o/r/jobs/1/runner')), fc.nat(3), (status, runner, steps) => {
        const job = jobOf(status, runner, steps);
        const a = githubLogAvailability(job);
        expect(githubLogAvailability(job)).toEqual(a);
        expect(a.kind).not.toBe('LIVE');
        expect(a.reason.length).toBeGreaterThan(0);
        if (!isTerminal(status)) expect(a.kind).toBe('AFTER_COMPLETION');
        else if (status === 'SKIPPED' || (runner === null && steps === 0)) expect(a.kind).toBe('NONE');
        else expect(a.kind).toBe('AFTER_COMPLETION');
      }),
    );
  });
});

describe('simulator log timestamps', () => {
  it('are ISO with 7 fraction digits and parse back to the same millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2099-12-31T23:59:59Z') }), (ms) => {
        const stamp = logTimestamp(ms);
        expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
        expect(Date.parse(stamp)).toBe(ms);
      }),
    );
  });
});
