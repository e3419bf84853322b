/**
 * Idle-memory load child: opens `count` WebSockets to the gateway, each with
 * one `jobUpdated` subscription spoken directly in graphql-transport-ws, then
 * sits idle answering pings. Sends "ready" over IPC once every subscription
 * is acknowledged; exits when the IPC channel closes.
 *
 * Usage (forked): idle-clients.ts <ws url> <count> <query>
 */
import { subscribeLean } from './lean-subscriber.ts';

const [url, countArg, query] = process.argv.slice(2);
const count = Number(countArg);
let acknowledged = 0;

for (let i = 0; i < count; i++) {
  subscribeLean(url!, query!, undefined, {
    next: () => undefined,
    connected: () => {
      if (++acknowledged === count) process.send?.('ready');
    },
    error: (error) => {
      process.stderr.write(`idle client ${i}: ${error instanceof Error ? error.message : JSON.stringify(error)}\n`);
      process.exit(1);
    },
  });
  // Connect in waves so the gateway's accept backlog never overflows.
  if (i % 250 === 249) await new Promise((r) => setTimeout(r, 25));
}
process.on('disconnect', () => process.exit(0));
