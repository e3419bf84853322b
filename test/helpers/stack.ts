import type { Client } from 'graphql-ws';
import { createGithubSimulator, type GithubSimulator, type GithubSimulatorOptions } from '../../adapters/github/simulator/index.ts';
import { startGatewayStack, type SimulatorStack } from './gateway-stack.ts';

export const WEBHOOK_SECRET = 'test-webhook-secret';
export const GITHUB_TOKEN = 'ghp_test_token';

export type Stack = SimulatorStack<GithubSimulator>;

export interface StackOptions {
  readonly sim?: Omit<GithubSimulatorOptions, 'webhook' | 'token'>;
  /** Extra backends[] entries besides the simulated GitHub (e.g. a broken one). */
  readonly extraBackends?: Record<string, unknown>[];
  readonly backend?: Record<string, unknown>;
  readonly config?: Record<string, unknown>;
  readonly webhooks?: boolean;
  readonly polling?: boolean;
  /** Receives every log line (JSON) at trace level, for tests that inspect logs. */
  readonly logSink?: (line: string) => void;
  /** Environment for secret references (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The gateway's clock (default real time). */
  readonly now?: () => Date;
}

/** A real gateway on an ephemeral loopback port, reading from a real GitHub simulator. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 7, ...options.sim });
  await sim.start();
  const stack = await startGatewayStack(
    {
      ...options.config,
      backends: [
        {
          name: 'gh',
          provider: 'github',
          url: sim.url,
          token: { value: GITHUB_TOKEN },
          ...(options.webhooks === false ? {} : { webhookSecret: { value: WEBHOOK_SECRET } }),
          organizations: ['octo-org'],
          runners: { organizations: ['octo-org'] },
          ...options.backend,
        },
        ...(options.extraBackends ?? []),
      ],
    },
    { polling: options.polling ?? false, logSink: options.logSink, onClose: () => sim.stop(), ...(options.env ? { env: options.env } : {}), ...(options.now ? { now: options.now } : {}) },
  );
  sim.setWebhook({ url: `${stack.base}/webhooks/gh`, secret: WEBHOOK_SECRET });
  return { ...stack, sim };
}

/** Collects `next` payloads of one subscription until `until` says stop (or a timeout). */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> | undefined, until: (items: T[]) => boolean, timeoutMs = 10_000): { done: Promise<T[]>; items: T[] } {
  const items: T[] = [];
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms with ${items.length} events: ${JSON.stringify(items).slice(0, 2000)}`));
    }, timeoutMs);
    const unsubscribe = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        if (value.errors) {
          clearTimeout(timer);
          reject(new Error(JSON.stringify(value.errors)));
          return;
        }
        items.push(value.data as T);
        if (until(items)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(items);
        }
      },
      error: (error) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
      },
      complete: () => undefined,
    });
  });
  return { done, items };
}

/**
 * graphql-ws acknowledges connections, not subscriptions: wait until the bus has
 * exactly `count` listeners (earlier tests' subscriptions are gone, new ones are in).
 */
export function waitForSubscribers(stack: Stack, count: number): Promise<void> {
  return waitFor(() => stack.gateway.subscriptionCount === count, 5000, `${count} subscribers`);
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
