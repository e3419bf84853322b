/**
 * Idle-memory load child: opens `count` WebSockets to the gateway, each with
 * one `jobUpdated` subscription spoken directly in graphql-transport-ws, then
 * sits idle answering pings. Sends "ready" over IPC once every subscription
 * is acknowledged; exits when the IPC channel closes.
 *
 * Usage (forked): idle-clients.ts <ws url> <count> <query>
 */
import WebSocket from 'ws';

const [url, countArg, query] = process.argv.slice(2);
const count = Number(countArg);
const sockets: WebSocket[] = [];
let acknowledged = 0;

for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url!, 'graphql-transport-ws');
  sockets.push(ws);
  ws.on('open', () => ws.send('{"type":"connection_init"}'));
  ws.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString()) as { type: string };
    if (message.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      if (++acknowledged === count) process.send?.('ready');
    } else if (message.type === 'ping') {
      ws.send('{"type":"pong"}');
    }
  });
  ws.on('error', (error) => {
    process.stderr.write(`idle client ${i}: ${error.message}\n`);
    process.exit(1);
  });
  // Connect in waves so the gateway's accept backlog never overflows.
  if (i % 250 === 249) await new Promise((r) => setTimeout(r, 25));
}
process.on('disconnect', () => process.exit(0));
