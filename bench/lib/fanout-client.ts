/**
 * Fan-out load child: opens `count` graphql-ws clients (`createClient` with
 * `ws`), each on its own socket with one `jobUpdated` subscription, and
 * records what each receives. Driven by the bench over IPC (advanced
 * serialization); exits when the IPC channel closes, so it never outlives the
 * bench.
 *
 * Times are epoch milliseconds from `performance.timeOrigin + performance.now()`,
 * so they compare with the bench's intended send times across processes.
 *
 * Event names tell what an event is: `bench-p<k>-0` probe, `bench-w-*` warm-up,
 * `bench-m-<seq>` measured webhook/publish `seq`.
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { subscribeLean } from './lean-subscriber.ts';

/**
 * `graphql-ws`: the library's `createClient`, one per subscriber. `lean`: the same
 * graphql-transport-ws protocol spoken directly over `ws` (connection_init, ack,
 * subscribe, next/error/complete, ping/pong), without the library's per-message
 * validation and bookkeeping, so one load core can receive more than the gateway sends.
 */
export type ClientKind = 'graphql-ws' | 'lean';

export type ToClient =
  | { cmd: 'start'; url: string; count: number; firstIndex: number; query: string; distinct: boolean; client: ClientKind }
  | { cmd: 'status' }
  | { cmd: 'measure'; N: number; t0: number; gapMs: number; J: number }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface ClientStatus {
  type: 'status';
  connected: number;
  probeSubscribers: number;
  warmDelivered: number;
  delivered: number;
  errors: number;
}

export interface ClientReport {
  type: 'report';
  delivered: number;
  duplicates: number;
  wrongTransition: number;
  errors: number;
  errorSamples: string[];
  /** Receipt minus intended send time, ms, one per delivered (subscriber, event). */
  latencies: Float64Array;
  /** Epoch ms of the last measured receipt (0 if none). */
  lastReceipt: number;
  /** This process's user + system CPU since `measure`, ms. */
  cpuMs: number;
}

export type FromClient = { type: 'hello' } | { type: 'ready'; connected: number } | { type: 'failed'; error: string } | ClientStatus | ClientReport;

const EXPECTED_PREVIOUS = [null, 'QUEUED', 'RUNNING'] as const;
const now = () => performance.timeOrigin + performance.now();

const send = (m: FromClient) => process.send?.(m);
const clients: { dispose(): unknown }[] = [];
let connected = 0;
let count = 0;
let probesSeen = new Uint8Array(0);
let probeSubscribers = 0;
let warmDelivered = 0;
let errors = 0;
const errorSamples: string[] = [];

// Measured run.
let N = 0;
let t0 = 0;
let gapMs = 0;
let J = 1;
let seen = new Uint8Array(0);
let latencies = new Float64Array(0);
let delivered = 0;
let duplicates = 0;
let wrongTransition = 0;
let lastReceipt = 0;
let cpu0 = process.cpuUsage();

type JobEventData = { previousStatus?: string | null; job?: { name?: string } };
/** `jobUpdated`, or the one aliased root field of the unique variant. */
type EventData = Record<string, JobEventData | undefined> | null | undefined;

function onEvent(i: number, data: EventData): void {
  const t = now();
  const root = data ? (data['jobUpdated'] ?? Object.values(data)[0]) : undefined;
  const name = root?.job?.name ?? '';
  const dash = name.lastIndexOf('-');
  const tag = name.slice(0, dash);
  const seq = Number(name.slice(dash + 1));
  if (tag === 'bench-m' && N > 0 && Number.isInteger(seq) && seq >= 0 && seq < N) {
    const at = i * N + seq;
    if (seen[at]) {
      duplicates++;
      return;
    }
    seen[at] = 1;
    latencies[delivered++] = t - (t0 + seq * gapMs);
    lastReceipt = t;
    const phase = Math.floor((seq % (3 * J)) / J);
    if ((root?.previousStatus ?? null) !== EXPECTED_PREVIOUS[phase]) wrongTransition++;
  } else if (tag.startsWith('bench-p')) {
    if (!probesSeen[i]) {
      probesSeen[i] = 1;
      probeSubscribers++;
    }
  } else if (tag === 'bench-w') {
    warmDelivered++;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message ?? JSON.stringify(e)).join('; ');
  const ev = error as { code?: number; reason?: string } | null;
  if (ev && typeof ev.code === 'number') return `socket closed ${ev.code} ${ev.reason ?? ''}`.trim();
  return JSON.stringify(error);
}

function noteError(error: unknown): void {
  errors++;
  if (errorSamples.length < 3) errorSamples.push(describe(error));
}

interface Handlers {
  next: (data: EventData) => void;
  error: (error: unknown) => void;
  connected: () => void;
}

function subscribeWithLibrary(url: string, query: string, variables: Record<string, unknown> | undefined, on: Handlers): Client {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, on: { connected: on.connected } });
  client.subscribe({ query, variables }, {
    next: (value) => on.next(value.data as EventData),
    error: on.error,
    complete: () => undefined,
  });
  return client;
}

async function start(m: Extract<ToClient, { cmd: 'start' }>): Promise<void> {
  count = m.count;
  probesSeen = new Uint8Array(count);
  const BATCH = 200;
  for (let start = 0; start < count; start += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      batch.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`subscriber ${m.firstIndex + i} did not connect in 20 s`)), 20_000);
          // Distinct operations: each subscriber's own variable value, so no two operations are equal.
          const variables = m.distinct ? { f: { backends: ['gh', `x${m.firstIndex + i}`] } } : undefined;
          // Unique variant: the placeholder becomes this subscriber's own alias.
          const query = m.query.replace('__I__', String(m.firstIndex + i));
          const subscribe = m.client === 'lean' ? subscribeLean<Record<string, JobEventData | undefined>> : subscribeWithLibrary;
          clients.push(subscribe(m.url, query, variables, {
            connected: () => {
              clearTimeout(timer);
              connected++;
              resolve();
            },
            next: (data) => {
              try {
                onEvent(i, data);
              } catch (error) {
                noteError(error);
              }
            },
            error: (error) => {
              noteError(error);
              clearTimeout(timer);
              reject(error instanceof Error ? error : new Error(describe(error)));
            },
          }));
        }),
      );
    }
    await Promise.all(batch);
  }
}

process.on('message', (raw) => {
  const m = raw as ToClient;
  switch (m.cmd) {
    case 'start':
      start(m).then(
        () => send({ type: 'ready', connected }),
        (error: unknown) => send({ type: 'failed', error: describe(error) }),
      );
      break;
    case 'status':
      send({ type: 'status', connected, probeSubscribers, warmDelivered, delivered, errors });
      break;
    case 'measure':
      N = m.N;
      t0 = m.t0;
      gapMs = m.gapMs;
      J = m.J;
      seen = new Uint8Array(count * N);
      latencies = new Float64Array(count * N);
      cpu0 = process.cpuUsage();
      send({ type: 'status', connected, probeSubscribers, warmDelivered, delivered, errors });
      break;
    case 'report': {
      const cpu = process.cpuUsage(cpu0);
      send({
        type: 'report', delivered, duplicates, wrongTransition, errors, errorSamples,
        latencies: latencies.slice(0, delivered), lastReceipt, cpuMs: (cpu.user + cpu.system) / 1000,
      });
      break;
    }
    case 'close':
      void Promise.race([Promise.allSettled(clients.map(async (c) => c.dispose())), new Promise((r) => setTimeout(r, 3000))]).then(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'hello' });
