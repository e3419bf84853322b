import { execute, parse } from 'graphql';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { adapterFactories } from '../../src/adapters.ts';
import { anonymousIdentity } from '../../src/auth/authenticate.ts';
import { compileScope } from '../../src/auth/scope.ts';
import type { Identity } from '../../src/auth/types.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createRequestContext, type GatewayServices } from '../../src/context.ts';
import type { HistoryStore } from '../../src/history/history-store.ts';
import { notificationsConfigSchema } from '../../src/notify/notify-config.ts';
import { createNotificationRules } from '../../src/notify/rules/create-notification-rules.ts';
import { assembleServices, type AssembledServices } from '../../src/server/gateway-services.ts';
import { createSchema } from '../../src/server/load-schema.ts';
import { migratedStore, postgresDatabase, type TestDatabase } from '../helpers/history-stores.ts';

const TOKEN = 'ghp_test_token';
const schema = createSchema();

/** The resolvers over real services (a GitHub simulator behind them) and the real watches on PostgreSQL. */
describe('notification rules in GraphQL', () => {
  let sim: GithubSimulator;
  let assembled: AssembledServices;
  let services: GatewayServices;
  let db: TestDatabase;
  let store: HistoryStore;
  const notifications = notificationsConfigSchema.parse({
    sinks: [{ type: 'log', name: 'mine', watchable: true }, { type: 'log', name: 'team' }],
    rules: [
      { name: 'everything', match: { branches: ['*'] }, on: ['failed', 'still-failing'], sinks: ['team'], route: { infrastructure: ['mine'] }, runningLongerThan: 600 },
    ],
  });

  beforeAll(async () => {
    sim = createGithubSimulator({ token: TOKEN, seed: 7 });
    await sim.start();
    const config = validateConfig({
      auth: { mode: 'open' }, audit: { file: null }, history: { enabled: false },
      backends: [{ name: 'gh', provider: 'github', url: sim.url, token: { value: TOKEN }, organizations: ['octo-org'] }],
    }, adapterFactories, 'test');
    assembled = assembleServices({ config, factories: adapterFactories, env: process.env, log: pino({ level: 'silent' }), now: () => new Date() });
    ({ db, store } = await migratedStore(postgresDatabase));
    const rules = createNotificationRules({
      config: notifications, enqueuer: { enqueue: async () => 1 }, state: assembled.services.state, registry: assembled.registry,
      history: { enabled: true, store: () => store, read: (work) => work(store) }, log: pino({ level: 'silent' }), now: () => new Date(), settleMs: 0,
    });
    services = { ...assembled.services, notifications: { config: notifications, outbox: null, watches: rules.watches } };
  });
  afterAll(async () => {
    await assembled?.registry.dispose();
    await db?.drop();
    await sim?.stop();
  });

  const run = async (query: string, variables: Record<string, unknown> = {}, identity: Identity = anonymousIdentity, withServices = services) => {
    const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue: createRequestContext(withServices, identity) });
    expect(result.errors).toBeUndefined();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape is asserted by the test itself
    return result.data as Record<string, any>;
  };
  const WATCH = `mutation($id: ID!, $sink: String!) { watchPipeline(input: { pipelineId: $id, sink: $sink, clientMutationId: "c1" }) {
    clientMutationId alreadyFinished expiresAt pipeline { id } errors { code message } } }`;

  it('lists the rules as configured, routes resolved per category', async () => {
    const data = await run('{ notificationRules { name triggers routes { category sinks } flaky matchesEverything runningLongerThanSeconds match { branches } } }');
    expect(data.notificationRules).toEqual([{
      name: 'everything', triggers: ['FAILED', 'STILL_FAILING'], flaky: 'MARK', matchesEverything: true, runningLongerThanSeconds: 600, match: { branches: ['*'] },
      routes: [{ category: 'CODE', sinks: ['team'] }, { category: 'INFRASTRUCTURE', sinks: ['mine'] }, { category: 'NONE', sinks: ['team'] }],
    }]);
  });

  it('watches a pipeline the caller sees; refuses other sinks, unknown ids and pipelines outside the scope', async () => {
    const { pipelines } = await run('{ pipelines(first: 1) { edges { node { id status } } } }');
    const node = pipelines.edges[0].node as { id: string; status: string };
    const watched = (await run(WATCH, { id: node.id, sink: 'mine' })).watchPipeline;
    expect(watched).toMatchObject({ clientMutationId: 'c1', pipeline: { id: node.id }, errors: [] });
    // The simulator's first runs have finished already: the message goes at once.
    expect(watched.alreadyFinished).toBe(true);

    expect((await run(WATCH, { id: node.id, sink: 'team' })).watchPipeline.errors).toEqual([{ code: 'INVALID_SINK', message: 'the sink "team" is not watchable' }]);
    expect((await run(WATCH, { id: node.id, sink: 'nope' })).watchPipeline.errors[0].code).toBe('INVALID_SINK');
    expect((await run(WATCH, { id: 'bm90LWFuLWlk', sink: 'mine' })).watchPipeline.errors[0].code).toBe('NOT_FOUND');
    const outsider: Identity = { ...anonymousIdentity, id: 'key:outsider', kind: 'api-key', scope: compileScope({ backends: ['gh'], projects: ['someone-else/*'] }) };
    expect((await run(WATCH, { id: node.id, sink: 'mine' }, outsider)).watchPipeline).toMatchObject({ pipeline: null, errors: [{ code: 'NOT_FOUND' }] });
    const { notifications: _off, ...without } = services;
    expect((await run(WATCH, { id: node.id, sink: 'mine' }, anonymousIdentity, without)).watchPipeline.errors[0].code).toBe('NOT_CONFIGURED');
  });
});
