import { afterEach, expect, it } from 'vitest';
import type { RequestRecord } from '../../adapters/github/simulator/index.ts';
import { JOBS_BATCH } from '../../src/history/backfill/project-pass.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const SYNC = `{ backends { sync { state imported requests pausedUntil lastError } } }`;
interface Sync { state: string; imported: number; requests: number; pausedUntil: string | null; lastError: string | null }

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Backend.sync; polled gently (Query.backends allows 600 calls a minute). */
async function sync(s: Stack): Promise<Sync> {
  await new Promise((r) => setTimeout(r, 150));
  const res = await s.query<{ backends: { sync: Sync }[] }>(SYNC);
  return res.data!.backends[0]!.sync;
}

/** When each request reached the simulator (its log has no times): an instrument on the log's array. */
function arrivalTimes(requests: readonly RequestRecord[]): number[] {
  const times: number[] = [];
  const log = requests as RequestRecord[];
  const push = log.push.bind(log);
  log.push = (...items: RequestRecord[]) => {
    for (let i = 0; i < items.length; i++) times.push(performance.now());
    return push(...items);
  };
  return times;
}

it('keeps to history.backfill.requestsPerMinute: in any second at most the burst, one batch and a second\'s worth, and the whole run no faster', async () => {
  const perMinute = 240;
  let times: number[] = [];
  stack = await startStack({
    sim: { repositories: ['api'], history: 40, now: () => new Date(NOW) },
    now: () => new Date(NOW),
    config: { history: { backfill: { days: 1, requestsPerMinute: perMinute, pageSize: 10 } } },
  });
  times = arrivalTimes(stack.sim.requests);
  await waitFor(async () => (await sync(stack!)).state === 'DONE', 60_000, 'the backfill to finish');
  const total = stack.sim.requests.length;
  expect(total).toBeGreaterThan(40);
  const burst = Math.ceil(perMinute / 60);
  // A batch of jobs reads (8) may go at once, in debt that the following sends wait off;
  // a request reaches the simulator a little after the budget let it go: one of slack.
  const perSecond = perMinute / 60;
  for (let i = 0; i < times.length; i++) {
    const inSecond = times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length;
    expect(inSecond).toBeLessThanOrEqual(burst + JOBS_BATCH + perSecond + 1);
  }
  const seconds = (times.at(-1)! - times[0]!) / 1000;
  expect(seconds).toBeGreaterThanOrEqual((total - burst - JOBS_BATCH - 1) / perSecond);
}, 90_000);

it('pauses while the backend is below the reserve or rate limited, says so in Backend.sync, and resumes after the reset', async () => {
  let clock = NOW;
  const now = () => new Date(clock);
  stack = await startStack({
    sim: { repositories: ['api'], history: 40, now },
    now,
    config: { history: { backfill: { days: 1, requestsPerMinute: 100_000, pageSize: 10, rateLimitReserve: 4970 } } },
  });
  const s = stack;
  // The simulator allows 5000 requests an hour: after 31 (of about 47) the remaining 4969 is below the reserve.
  let paused: Sync | undefined;
  await waitFor(async () => (paused = await sync(s)).state === 'PAUSED_RATE_LIMITED', 30_000, 'the pause below the reserve');
  const resetAt = (Math.floor(NOW / 1000) + 3600) * 1000;
  expect(paused!.pausedUntil).toBe(new Date(resetAt).toISOString());
  const sentBeforeReset = s.sim.requests.length;
  expect(sentBeforeReset).toBeGreaterThanOrEqual(31);
  // The list page and at most one batch of jobs reads can be under way when the reserve is crossed.
  expect(sentBeforeReset).toBeLessThanOrEqual(31 + 8);
  expect((await sync(s)).state).toBe('PAUSED_RATE_LIMITED');
  expect(s.sim.requests.length).toBe(sentBeforeReset);

  // An answered 429 with Retry-After: the policy's wait, shown the same way.
  s.sim.setFault({ status: 429, retryAfterSeconds: 600, match: /\/actions\/runs/ });
  clock = resetAt + 1000;
  await waitFor(async () => s.sim.requests.some((r) => r.status === 429), 30_000, 'a 429');
  await waitFor(async () => (paused = await sync(s)).state === 'PAUSED_RATE_LIMITED', 30_000, 'the pause after the 429');
  expect(paused!.pausedUntil).toBe(new Date(clock + 600_000).toISOString());
  expect(s.sim.requests.filter((r) => r.status === 429)).toHaveLength(1);

  s.sim.setFault(null);
  clock += 601_000;
  await waitFor(async () => (await sync(s)).state === 'DONE', 30_000, 'the backfill to finish after the waits');
  expect(s.sim.requests.filter((r) => r.status === 429)).toHaveLength(1);
  expect((await sync(s)).imported).toBe(40);
}, 90_000);
