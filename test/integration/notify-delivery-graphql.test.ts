import { execute, parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileScope, type ScopeGrant } from '../../src/auth/scope.ts';
import type { GatewayContext } from '../../src/context.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { deliveryId } from '../../src/notify/notification.ts';
import { notificationsConfigSchema } from '../../src/notify/notify-config.ts';
import { OutboxStore } from '../../src/notify/delivery/outbox-store.ts';
import { createSchema } from '../../src/server/load-schema.ts';
import { migratedStore, postgresDatabase, type TestDatabase } from '../helpers/history-stores.ts';
import { testNotification } from '../helpers/notify-delivery-kit.ts';

const config = notificationsConfigSchema.parse({
  sinks: [
    { type: 'slack', name: 'team', url: { env: 'SLACK_URL' } },
    { type: 'webhook', name: 'hook', url: 'https://hooks.example.com/in/ci?token=s3cret', secret: { env: 'HOOK_SECRET' }, concurrency: 3 },
    { type: 'teams', name: 'ops', url: { value: 'https://example.webhook.office.com/webhookb2/abc-token/IncomingWebhook/xyz' } },
  ],
});

describe('notification deliveries through GraphQL', () => {
  const schema = createSchema();
  let db: TestDatabase;
  let store: SqlHistoryStore;
  let outbox: OutboxStore;
  beforeEach(async () => {
    ({ db, store } = await migratedStore(postgresDatabase));
    // A clock a second further at each reading: the rows' order (newest first) does not depend on timing.
    let clock = Date.now();
    outbox = new OutboxStore(() => store, () => new Date((clock += 1000)));
    await outbox.enqueue(testNotification('acme-failed'), ['hook', 'team']);
    await outbox.enqueue(testNotification('other-failed', { trigger: 'still-failing', project: { id: 'p', nativeId: 'other/app', fullName: null, url: null } }), ['hook']);
    for (const r of await outbox.claim('hook', 10, 'me', new Date(Date.now() + 60_000))) await outbox.complete(r.id, 'me', { kind: 'dead', status: 410, error: 'gone' });
  });
  afterEach(async () => {
    await db.drop();
  });

  const run = async (source: string, grants: ScopeGrant | ScopeGrant[]) => {
    const contextValue = { identity: { scope: compileScope(grants) }, notifications: { config, outbox, watches: null } } as unknown as GatewayContext;
    const result = await execute({ schema, document: parse(source), contextValue });
    expect(result.errors).toBeUndefined();
    return result.data as Record<string, never>;
  };

  it('lists the deliveries the caller can see, with the schema\'s enums', async () => {
    const data = await run('{ notificationDeliveries(state: DEAD) { edges { node { id sink state trigger category attempts lastStatus lastError summary } } pageInfo { hasNextPage } } }', { backends: ['gh'], projects: ['acme/*'] });
    expect(data).toEqual({
      notificationDeliveries: {
        edges: [{ node: { id: deliveryId('acme-failed', 'hook'), sink: 'hook', state: 'DEAD', trigger: 'FAILED', category: 'CODE', attempts: 1, lastStatus: 410, lastError: 'gone', summary: expect.stringContaining('acme-failed') } }],
        pageInfo: { hasNextPage: false },
      },
    });
    const all = await run('{ notificationDeliveries(sink: "hook") { edges { node { trigger } } } }', { backends: ['*'] });
    expect(all).toEqual({ notificationDeliveries: { edges: [{ node: { trigger: 'STILL_FAILING' } }, { node: { trigger: 'FAILED' } }] } });
    // Each edge's cursor resumes after it.
    type Page = { notificationDeliveries: { edges: { cursor: string; node: { trigger: string } }[] } };
    const firstPage = (await run('{ notificationDeliveries(first: 1) { edges { cursor node { trigger } } } }', { backends: ['*'] })) as unknown as Page;
    const cursor = firstPage.notificationDeliveries.edges[0]!.cursor;
    const rest = (await run(`{ notificationDeliveries(after: ${JSON.stringify(cursor)}) { edges { node { trigger } } } }`, { backends: ['*'] })) as unknown as Page;
    expect(rest.notificationDeliveries.edges.map((e) => e.node.trigger)).toEqual(['FAILED', 'FAILED']);
  });

  it('shows the sinks without their secrets, with pending and dead counts', async () => {
    const data = await run('{ notificationSinks { name type target concurrency pending dead } }', { backends: ['*'] });
    expect(data).toEqual({
      notificationSinks: [
        { name: 'team', type: 'SLACK', target: 'slack (url from env SLACK_URL)', concurrency: 2, pending: 1, dead: 0 },
        { name: 'hook', type: 'WEBHOOK', target: 'https://hooks.example.com/in/ci', concurrency: 3, pending: 0, dead: 2 },
        { name: 'ops', type: 'TEAMS', target: 'https://example.webhook.office.com', concurrency: 2, pending: 0, dead: 0 },
      ],
    });
  });

  it('re-drives only what the caller may retry, and says what it refused', async () => {
    const mutation = 'mutation { redriveNotifications(input: { sink: "hook" }) { redriven errors { code message } } }';
    const data = await run(mutation, { backends: ['gh'], projects: ['acme/*'], actions: ['retry'] });
    expect(data).toEqual({ redriveNotifications: { redriven: 1, errors: [{ code: 'FORBIDDEN', message: expect.stringMatching(/^1 message\(s\) not re-driven/) }] } });
    expect(Object.fromEntries(await outbox.counts())).toEqual({ hook: { pending: 1, dead: 1 }, team: { pending: 1, dead: 0 } });
    const readOnly = await run(mutation, { backends: ['*'] });
    expect(readOnly).toEqual({ redriveNotifications: { redriven: 0, errors: [{ code: 'FORBIDDEN', message: expect.any(String) }] } });
    const unknown = await run('mutation { redriveNotifications(input: { sink: "nope" }) { redriven errors { code } } }', { backends: ['*'], actions: ['*'] });
    expect(unknown).toEqual({ redriveNotifications: { redriven: 0, errors: [{ code: 'INVALID_SINK' }] } });
  });
});
