/**
 * With introspection off, no error names a field, type or enum value the
 * caller did not write: "Did you mean …" is stripped from validation,
 * variable-coercion and execution errors, over HTTP, SSE and graphql-ws.
 * With introspection on, the same probes do get suggestions (so the probes
 * really are ones graphql-js would answer with a suggestion).
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

interface Probe {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

/** Each would get "Did you mean" from graphql-js. */
const PROBES: readonly Probe[] = [
  { name: 'enum in a variable (coercion)', query: 'query($s: [CiStatus!]) { pipelines(filter: { status: $s }) { nodes { id } } }', variables: { s: ['FAILUR'] } },
  { name: 'input field in a variable (coercion)', query: 'query($f: PipelineFilter) { pipelines(filter: $f) { nodes { id } } }', variables: { f: { statu: ['QUEUED'] } } },
  { name: 'enum literal (validation)', query: '{ pipelines(filter: { status: [FAILUR] }) { nodes { id } } }' },
  { name: 'input field literal (validation)', query: '{ pipelines(filter: { branc: "main" }) { nodes { id } } }' },
  { name: 'argument (validation)', query: '{ pipelines(firs: 1) { nodes { id } } }' },
  { name: 'type condition (validation)', query: '{ node(id: "x") { ... on Pipelin { id } } }' },
];

/** Subscriptions: a filter variable (the multiplexed path coerces it itself), a literal, and a resume (runs on its own). */
const SUBSCRIPTION_PROBES: readonly Probe[] = [
  { name: 'subscription filter variable', query: 'subscription($f: JobFilter) { jobUpdated(filter: $f) { job { name } } }', variables: { f: { status: ['FAILUR'] } } },
  { name: 'subscription variable with resume', query: 'subscription($s: [CiStatus!]) { jobUpdated(filter: { status: $s }, after: "0") { job { name } } }', variables: { s: ['FAILUR'] } },
  { name: 'subscription literal', query: 'subscription { jobUpdated(filter: { statu: [QUEUED] }) { job { name } } }' },
];

type Errors = readonly { message: string }[];

const request = (probe: Probe) => ({ query: probe.query, variables: probe.variables });

async function overHttp(stack: Stack, probe: Probe): Promise<Errors> {
  const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify(request(probe)) });
  return ((await res.json()) as { errors?: Errors }).errors ?? [];
}

/** The errors of the first SSE `next` event (or of a plain JSON answer, for requests refused before streaming). */
async function overSse(stack: Stack, probe: Probe): Promise<Errors> {
  const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(request(probe)) });
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return ((await res.json()) as { errors?: Errors }).errors ?? [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return [];
      text += decoder.decode(value, { stream: true });
      const next = /event: next\ndata: (.*)\n/.exec(text);
      if (next) return (JSON.parse(next[1]!) as { errors?: Errors }).errors ?? [];
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function overWs(client: Client, probe: Probe): Promise<Errors> {
  return new Promise((resolve, reject) => {
    const errors: { message: string }[] = [];
    client.subscribe(request(probe), {
      next: (value) => {
        errors.push(...((value.errors as Errors | undefined) ?? []));
      },
      error: (error) => (Array.isArray(error) ? resolve(error as Errors) : reject(error instanceof Error ? error : new Error(JSON.stringify(error)))),
      complete: () => resolve(errors),
    });
  });
}

describe('error suggestions and introspection', () => {
  const stacks: Record<'off' | 'on', Stack | undefined> = { off: undefined, on: undefined };
  beforeAll(async () => {
    [stacks.off, stacks.on] = await Promise.all([
      startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { introspection: false } } }),
      startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { introspection: true } } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stacks.off?.close(), stacks.on?.close()]);
  });

  /** Every probe's error messages, per transport. */
  async function messages(stack: Stack): Promise<Record<string, string[]>> {
    const client = stack.wsClient();
    const out: Record<string, string[]> = {};
    for (const probe of PROBES) {
      out[`http: ${probe.name}`] = (await overHttp(stack, probe)).map((e) => e.message);
      out[`sse: ${probe.name}`] = (await overSse(stack, probe)).map((e) => e.message);
      out[`ws: ${probe.name}`] = (await overWs(client, probe)).map((e) => e.message);
    }
    for (const probe of SUBSCRIPTION_PROBES) {
      out[`ws: ${probe.name}`] = (await overWs(client, probe)).map((e) => e.message);
      out[`sse: ${probe.name}`] = (await overSse(stack, probe)).map((e) => e.message);
    }
    return out;
  }

  it('should suggest nothing on any transport when introspection is off', async () => {
    const off = await messages(stacks.off!);
    for (const [where, list] of Object.entries(off)) {
      expect(list.length, `${where} has an error`).toBeGreaterThan(0);
      for (const message of list) {
        expect(message, where).not.toMatch(/did you mean/i);
        // The names a suggestion would have given away.
        expect(message, where).not.toMatch(/"(FAILURE|status|branch|first|Pipeline)"/);
      }
    }
  });

  it('should still suggest with introspection on (the probes are real)', async () => {
    const on = await messages(stacks.on!);
    for (const [where, list] of Object.entries(on)) expect(list.join(' '), where).toMatch(/did you mean/i);
  });
});
