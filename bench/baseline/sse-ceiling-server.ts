/**
 * The SSE fan-out ceiling: what one Node process can broadcast over SSE with
 * no GraphQL at all. A plain node http server: `/graphql` with
 * `Accept: text/event-stream` answers the SSE head and keeps the response;
 * `POST /publish` with a JobEvent-shaped JSON body serializes the result the
 * bench selects ONCE, builds one `event: next` frame (with the cursor as
 * `id:`, as the gateway writes it) and writes that same string to every open
 * response, corked per turn like the gateway's batches. Nothing is parsed,
 * executed, filtered or checked per subscriber: a server doing more can only
 * be slower.
 *
 * Same child protocol as bench/baseline/server.ts (bench/lib/child-lifecycle.ts).
 */
import { createServer, type ServerResponse } from 'node:http';
import { closeHttpServer, listenHttpServer, serveBenchChild } from '../lib/child-lifecycle.ts';

interface CeilingJobEvent {
  previousStatus: string | null;
  job: { id: string; name: string; status: string };
  cursor: string;
}

const streams = new Set<ServerResponse>();
let pending: string[] = [];

/** Frames of one turn leave together: one corked write per stream, as the gateway's multiplexer batches. */
function flush(): void {
  const frames = pending;
  pending = [];
  for (const res of streams) {
    if (frames.length > 1) res.cork();
    for (const frame of frames) res.write(frame);
    if (frames.length > 1) res.uncork();
  }
}

function publish(event: CeilingJobEvent): void {
  const payload = JSON.stringify({ data: { jobUpdated: { previousStatus: event.previousStatus, job: event.job } } });
  if (pending.length === 0) setImmediate(flush);
  pending.push(`event: next\ndata: ${payload}\nid: ${event.cursor}\n\n`);
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        publish(JSON.parse(Buffer.concat(chunks).toString()) as CeilingJobEvent);
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"published":1}');
    });
    return;
  }
  if (req.url?.startsWith('/graphql') && (req.headers.accept ?? '').includes('text/event-stream')) {
    // The request body (the operation) is read and ignored: every stream gets every frame.
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache' });
    res.write(':\n\n');
    streams.add(res);
    res.once('close', () => streams.delete(res));
    return;
  }
  res.writeHead(404).end();
});

await serveBenchChild({
  listen: () => listenHttpServer(server),
  close: () => closeHttpServer(server),
});
