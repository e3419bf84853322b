/**
 * The fan-out ceiling (bench section 3): what one core can deliver over plain
 * `ws` with no GraphQL at all, so the gateway's figures can be read as a
 * fraction of what this machine allows.
 *
 * Input is exactly the gateway's: the same signed `workflow_job` webhook POST
 * on `/webhooks/gh` (HMAC-SHA256 checked, body parsed once). Each event is
 * turned into the payload the gateway would send (`{"data":{"jobUpdated":…}}`,
 * the job's global id built as the gateway builds it) and serialized ONCE; per
 * subscriber only the `next` frame's id prefix differs (and, for an aliased
 * root field, the alias). Frames are batched per turn of the event loop and a
 * batch reaches each socket in one corked write, as the gateway's multiplexer
 * does, so this is the best the same write path can do, not a strawman.
 *
 * It speaks just enough graphql-transport-ws for the bench's fan-out clients:
 * connection_init → connection_ack, subscribe → remember the id (plus the
 * alias of `s<i>: jobUpdated`, or `$f.backends` for a filtered subscription),
 * ping → pong, complete → forget. No validation, no auth, no flow control.
 *
 * Input: env BENCH_GATEWAY = JSON { webhookSecret } (the gateway child's input).
 * Same child protocol as bench/gateway-process.ts (bench/lib/child-lifecycle.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeHttpServer, listenHttpServer, serveBenchChild } from '../lib/child-lifecycle.ts';

const input = JSON.parse(process.env.BENCH_GATEWAY ?? 'null') as { webhookSecret?: string } | null;
const secret = input?.webhookSecret;
if (!secret) {
  process.stderr.write('BENCH_GATEWAY with a webhookSecret is not set\n');
  process.exit(2);
}
/** The backend name the gateway's bench config gives the GitHub simulator. */
const BACKEND = 'gh';

interface Subscriber {
  readonly ws: WebSocket;
  /** `{"id":"<id>","type":"next","payload":` and, for an aliased root field, `{"data":{"<alias>":`. */
  readonly prefix: string;
  /** What closes the frame after the shared part. */
  readonly suffix: string;
  /** True: the frame carries the whole payload; false: only the root field's value (aliased). */
  readonly whole: boolean;
  /** `$f.backends` of a filtered subscription; null = every event. */
  readonly backends: readonly string[] | null;
}

const subscribers = new Set<Subscriber>();
const bySocket = new WeakMap<WebSocket, Map<string, Subscriber>>();

/** Payloads of this turn: the whole `{"data":{"jobUpdated":…}}` and the root field's value alone. */
let batchWhole: string[] = [];
let batchField: string[] = [];
let batchBackends: string[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  const whole = batchWhole;
  const field = batchField;
  const backends = batchBackends;
  batchWhole = [];
  batchField = [];
  batchBackends = [];
  const n = whole.length;
  for (const s of subscribers) {
    if (s.ws.readyState !== 1) continue;
    const parts = s.whole ? whole : field;
    const tcp = (s.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (n > 1) tcp?.cork();
    for (let i = 0; i < n; i++) {
      if (s.backends && !s.backends.includes(backends[i]!)) continue;
      s.ws.send(s.prefix + parts[i] + s.suffix);
    }
    if (n > 1) tcp?.uncork();
  }
}

function publish(body: Buffer): boolean {
  const hook = JSON.parse(body.toString()) as {
    workflow_job?: { id: number; name: string };
    repository?: { full_name: string };
  };
  const job = hook.workflow_job;
  const repo = hook.repository?.full_name;
  if (!job || !repo) return false;
  // The gateway's global id: base64url("Job:<backend>:<owner/repo lower-cased>/jobs/<id>").
  const id = Buffer.from(`Job:${BACKEND}:${repo.toLowerCase()}/jobs/${job.id}`, 'utf8').toString('base64url');
  const value = JSON.stringify({ previousStatus: null, job: { id, name: job.name, status: 'QUEUED' } });
  batchWhole.push(`{"data":{"jobUpdated":${value}}}`);
  batchField.push(value);
  batchBackends.push(BACKEND);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
  return true;
}

function signatureValid(body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret!).update(body).digest('hex')}`);
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== `/webhooks/${BACKEND}`) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!signatureValid(body, req.headers['x-hub-signature-256'])) {
      res.writeHead(401).end();
      return;
    }
    let published: boolean;
    try {
      published = publish(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end(published ? '{"published":1}' : '{"published":0}');
  });
});

/** `s<i>: jobUpdated` → `s<i>`; the bench's unique variant aliases the root field. */
const ALIAS = /\{\s*([A-Za-z_]\w*)\s*:\s*jobUpdated\b/;

function subscribe(ws: WebSocket, id: string, payload: { query?: string; variables?: { f?: { backends?: string[] } } | null }): void {
  const alias = ALIAS.exec(payload.query ?? '')?.[1];
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  const s: Subscriber = alias
    ? { ws, prefix: `${head}{"data":{${JSON.stringify(alias)}:`, suffix: '}}}', whole: false, backends: null }
    : { ws, prefix: head, suffix: '}', whole: true, backends: payload.variables?.f?.backends ?? null };
  let own = bySocket.get(ws);
  if (!own) bySocket.set(ws, (own = new Map()));
  const replaced = own.get(id);
  if (replaced) subscribers.delete(replaced);
  own.set(id, s);
  subscribers.add(s);
}

function forget(ws: WebSocket, id?: string): void {
  const own = bySocket.get(ws);
  if (!own) return;
  for (const [key, s] of own) {
    if (id !== undefined && key !== id) continue;
    subscribers.delete(s);
    own.delete(key);
  }
}

const wss = new WebSocketServer({ server, path: '/graphql' });
wss.on('connection', (ws) => {
  ws.on('message', (raw: Buffer) => {
    let m: { type?: string; id?: string; payload?: unknown };
    try {
      m = JSON.parse(raw.toString()) as typeof m;
    } catch {
      ws.close(4400, 'Invalid message');
      return;
    }
    switch (m.type) {
      case 'connection_init':
        ws.send('{"type":"connection_ack"}');
        break;
      case 'subscribe':
        if (typeof m.id === 'string') subscribe(ws, m.id, (m.payload ?? {}) as Parameters<typeof subscribe>[2]);
        break;
      case 'complete':
        if (typeof m.id === 'string') forget(ws, m.id);
        break;
      case 'ping':
        ws.send('{"type":"pong"}');
        break;
    }
  });
  ws.on('close', () => forget(ws));
});

await serveBenchChild({
  listen: () => listenHttpServer(server),
  close: async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    await closeHttpServer(server);
  },
});
