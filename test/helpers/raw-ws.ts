import WebSocket from 'ws';

/** A raw graphql-transport-ws client: sends exactly the frames a test needs and records the close. */
export async function openRawSocket(url: string, protocol: string | null = 'graphql-transport-ws', options: WebSocket.ClientOptions = {}) {
  const ws = protocol === null ? new WebSocket(url, options) : new WebSocket(url, protocol, options);
  const messages: Record<string, unknown>[] = [];
  let closed: { code: number; reason: string } | null = null;
  let notify: () => void = () => undefined;
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    notify();
  });
  const closing = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closed = { code, reason: String(reason) };
      resolve(closed);
      notify();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = async (predicate: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > end) throw new Error(`timed out; messages: ${JSON.stringify(messages).slice(0, 500)}; closed: ${JSON.stringify(closed)}`);
      await new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 20);
      });
    }
  };
  return {
    ws, messages, closing,
    get closed(): { code: number; reason: string } | null {
      return closed;
    },
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    waitFor,
    /** connection_init with `payload`; resolves on the ack (throws on a close instead). */
    async init(payload: Record<string, unknown> = {}) {
      ws.send(JSON.stringify({ type: 'connection_init', payload }));
      await waitFor(() => closed !== null || messages.some((m) => m.type === 'connection_ack'));
      if (closed) throw new Error(`closed ${JSON.stringify(closed)} instead of connection_ack`);
    },
  };
}
