import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSchemaEnv } from '../helpers/history-stores.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const postgresSchema = () => postgresSchemaEnv('history_it');

describe.each([
  ['PGlite (in memory)', false],
  ['PostgreSQL (history.url from the environment)', true],
])('history on %s', (_name, onServer) => {
  let stack: Stack;
  let drop = async () => {};

  beforeAll(async () => {
    let env: NodeJS.ProcessEnv | undefined;
    if (onServer) ({ env, drop } = await postgresSchema());
    const history = onServer ? { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' } } : {};
    stack = await startStack({ sim: { repositories: ['api'] }, config: { history }, ...(env ? { env } : {}) });
    await stack.gateway.history.ready;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await drop();
  });

  it('records the transitions and final shapes a webhook delivery brings', async () => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'recorded', labels: ['self-hosted', 'linux'], outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    const store = stack.gateway.history.store();
    type JobRow = { status: string; labels: string[]; duration_ms: number | null };
    let jobs: JobRow[] = [];
    await waitFor(async () => {
      jobs = await store.query<JobRow>(`SELECT status, labels, duration_ms FROM jobs WHERE name = 'recorded'`);
      return jobs[0]?.status === 'FAILURE';
    }, 15_000, 'the finished job in the history');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.labels).toEqual(['self-hosted', 'linux']);
    const transitions = await store.query<{ status: string }>(
      `SELECT status FROM transitions WHERE entity_type = 'Job' AND payload->>'name' = 'recorded' ORDER BY revision`,
    );
    expect(transitions.map((t) => t.status)).toContain('QUEUED');
    expect(transitions.at(-1)!.status).toBe('FAILURE');
  });
});
