import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { pino } from 'pino';
import { createJenkinsSimulator, type JenkinsSimulator, type JenkinsSimulatorOptions } from '../../adapters/jenkins/simulator/index.ts';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';

export const JENKINS_USER = 'switchyard-bot';
export const JENKINS_TOKEN = 'jenkins-test-api-token';
export const NOTIFY_SECRET = 'jenkins-notify-secret';

export interface JenkinsStack {
  readonly gateway: Gateway;
  readonly sim: JenkinsSimulator;
  readonly base: string;
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  wsClient(): Client;
  close(): Promise<void>;
}

export interface JenkinsStackOptions {
  readonly sim?: Omit<JenkinsSimulatorOptions, 'user' | 'apiToken'>;
  /** Extra keys for the jenkins backends[] entry. */
  readonly backend?: Record<string, unknown>;
  /** Configure `notifySecret` (default true). */
  readonly notify?: boolean;
  /** Let the core's scheduler poll on its own (default false: tests call pollNow). */
  readonly polling?: boolean;
}

/** A real gateway on an ephemeral loopback port over a real Jenkins simulator (backend name `jk`). */
export async function startJenkinsStack(options: JenkinsStackOptions = {}): Promise<JenkinsStack> {
  const sim = createJenkinsSimulator({ user: JENKINS_USER, apiToken: JENKINS_TOKEN, seed: 11, history: 2, ...options.sim });
  await sim.start();
  const config = validateConfig(
    {
      logLevel: 'silent',
      server: { port: 0, host: '127.0.0.1' },
      auth: { mode: 'open' },
      audit: { file: null },
      backends: [
        {
          name: 'jk',
          provider: 'jenkins',
          url: sim.url,
          user: JENKINS_USER,
          apiToken: { value: JENKINS_TOKEN },
          ...(options.notify === false ? {} : { notifySecret: { value: NOTIFY_SECRET } }),
          requestsPerMinute: 10_000,
          ...options.backend,
        },
      ],
    },
    adapterFactories,
    'test',
  );
  const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: options.polling ?? false });
  const { port } = await gateway.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    gateway,
    sim,
    base,
    async query(query, variables) {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    wsClient() {
      const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await gateway.close();
      await sim.stop();
    },
  };
}
