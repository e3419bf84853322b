import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Keep-alive for every WebSocket of a server on one timer (instead of a timer
 * and closures per connection): each tick pings every socket, and a socket
 * that has not answered the previous tick's ping is terminated, so a dead
 * peer is reaped within two intervals and its subscriptions released.
 */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): { stop(): void } {
  const unanswered = new WeakSet<WebSocket>();
  function answered(this: WebSocket): void {
    unanswered.delete(this);
  }
  const onConnection = (ws: WebSocket) => ws.on('pong', answered);
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (unanswered.has(ws)) {
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      wss.off('connection', onConnection);
    },
  };
}
