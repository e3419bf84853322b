/**
 * A child process holding `count` GraphQL-over-SSE subscriptions (distinct
 * connections mode: one POST with `Accept: text/event-stream` each), for
 * bench/scenarios/sse-fanout.ts. It reads every `next` event, finds the job
 * name the bench put in it (`bench-<tag>-<seq>`) and, for measured events
 * (tag `m`), records receipt minus the intended send time (t0 + seq × gap,
 * epoch ms, told by the parent). Talks to its parent over IPC.
 */
import http from 'node:http';

export type SseToClient =
  | { cmd: 'start'; url: string; count: number; query: string }
  | { cmd: 'measure'; t0: number; gapMs: number; N: number }
  | { cmd: 'status' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface SseClientStatus {
  type: 'status';
  /** Streams that have seen a probe event (their subscription is live). */
  probeSubscribers: number;
  warmDelivered: number;
  delivered: number;
  errors: number;
}

export type SseFromClient =
  | { type: 'hello' }
  | { type: 'ready'; opened: number; failed: number }
  | SseClientStatus
  | { type: 'report'; delivered: number; duplicates: number; latencies: Float64Array; lastReceipt: number; cpuMs: number; errors: number; errorSamples: string[] };

const NAME = /"name":"bench-([a-z]+)\d*-(\d+)"/;

interface Stream {
  partial: string;
  probed: boolean;
  seen: Uint8Array;
}

let measure: { t0: number; gapMs: number; N: number } | null = null;
let latencies: number[] = [];
let delivered = 0;
let duplicates = 0;
let warmDelivered = 0;
let lastReceipt = 0;
let errors = 0;
const errorSamples: string[] = [];
const streams: Stream[] = [];
const requests: http.ClientRequest[] = [];
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function onFrame(stream: Stream, frame: string): void {
  if (!frame.startsWith('event: next')) return;
  const m = NAME.exec(frame);
  if (!m) {
    if (frame.includes('"errors"')) {
      errors++;
      if (errorSamples.length < 3) errorSamples.push(frame.slice(0, 300));
    }
    return;
  }
  const tag = m[1]!;
  if (tag === 'p') stream.probed = true;
  else if (tag === 'w') warmDelivered++;
  else if (tag === 'm' && measure) {
    const seq = Number(m[2]);
    if (seq >= measure.N) return;
    if (stream.seen[seq]) {
      duplicates++;
      return;
    }
    stream.seen[seq] = 1;
    const now = Date.now();
    lastReceipt = now;
    delivered++;
    latencies.push(now - (measure.t0 + seq * measure.gapMs));
  }
}

function open(url: string, query: string): Promise<boolean> {
  const stream: Stream = { partial: '', probed: false, seen: new Uint8Array(0) };
  streams.push(stream);
  const body = JSON.stringify({ query });
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(`HTTP ${res.statusCode}`);
        res.resume();
        resolve(false);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const frames = (stream.partial + chunk).split('\n\n');
        stream.partial = frames.pop()!;
        for (const frame of frames) onFrame(stream, frame);
      });
      resolve(true);
    });
    req.on('error', (e) => {
      errors++;
      if (errorSamples.length < 3) errorSamples.push(e.message);
      resolve(false);
    });
    req.end(body);
    requests.push(req);
  });
}

process.on('message', (raw) => {
  const m = raw as SseToClient;
  const send = (reply: SseFromClient) => process.send?.(reply);
  if (m.cmd === 'start') {
    void (async () => {
      let opened = 0;
      // In waves, so the server's accept queue is not flooded at once.
      for (let i = 0; i < m.count; i += 200) {
        const wave = await Promise.all(Array.from({ length: Math.min(200, m.count - i) }, () => open(m.url, m.query)));
        opened += wave.filter(Boolean).length;
      }
      send({ type: 'ready', opened, failed: m.count - opened });
    })();
  } else if (m.cmd === 'measure') {
    measure = { t0: m.t0, gapMs: m.gapMs, N: m.N };
    latencies = [];
    delivered = 0;
    duplicates = 0;
    for (const s of streams) s.seen = new Uint8Array(m.N);
    send({ type: 'status', probeSubscribers: 0, warmDelivered, delivered, errors });
  } else if (m.cmd === 'status') {
    send({ type: 'status', probeSubscribers: streams.filter((s) => s.probed).length, warmDelivered, delivered, errors });
  } else if (m.cmd === 'report') {
    const cpu = process.cpuUsage();
    send({ type: 'report', delivered, duplicates, latencies: Float64Array.from(latencies), lastReceipt, cpuMs: (cpu.user + cpu.system) / 1000, errors, errorSamples });
  } else if (m.cmd === 'close') {
    for (const r of requests) r.destroy();
    agent.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'hello' } satisfies SseFromClient);
