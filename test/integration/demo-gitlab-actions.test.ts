import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import gitlabAdapter from '../../adapters/gitlab/index.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';

/**
 * Demo mode (`npm start` with no config) for GitLab: the backend has write credentials and an
 * anonymous GraphiQL user may act, on work that waits for a person from the first second (an
 * optional manual job to play, a deployment awaiting approval), while autoplay goes on.
 */
interface JobView { id: string; name: string; status: string; waitReason: string | null }
interface Payload { errors: { code: string; message: string }[]; upstream: { calls: { method: string; path: string; status: number | null }[] } | null; job: JobView | null }

describe('GitLab demo: actions a GraphiQL user can try', () => {
  let demo: Demo;
  const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: unknown[] }> => {
    const res = await fetch(`http://127.0.0.1:${demo.port}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as never;
  };
  const waitingJobs = async () => {
    const res = await gql<{ pipelines: { nodes: { name: string; jobs: { nodes: JobView[] } }[] } }>(
      '{ pipelines(first: 50, filter: { backends: ["gitlab-demo"], status: [WAITING] }) { nodes { name jobs { nodes { id name status waitReason } } } } }');
    expect(res.errors).toBeUndefined();
    return res.data!.pipelines.nodes.filter((p) => p.name === 'Release (waits for you)').flatMap((p) => p.jobs.nodes);
  };

  beforeAll(async () => {
    demo = await startDemo({ factories: { gitlab: gitlabAdapter }, port: 0, host: '127.0.0.1', logLevel: 'silent', seed: 5 });
  });
  afterAll(() => demo?.close());

  it('should show a manual job and a deployment awaiting approval, and let an anonymous user approve and reject them', async () => {
    const jobs = await waitingJobs();
    const review = jobs.find((j) => j.name === 'deploy:review');
    const production = jobs.find((j) => j.name === 'deploy:production');
    expect(review).toMatchObject({ status: 'WAITING', waitReason: 'MANUAL' });
    expect(production).toMatchObject({ status: 'WAITING' });

    const approve = await gql<{ approve: Payload }>(
      'mutation($id: ID!) { approve(input: { id: $id, comment: "from GraphiQL", inputs: [{ name: "REVIEW_APP", value: "demo" }] }) { errors { code message } upstream { calls { method path status } } job { id name status waitReason } } }',
      { id: review!.id });
    expect(approve.errors).toBeUndefined();
    expect(approve.data!.approve.errors).toEqual([]);
    expect(approve.data!.approve.upstream!.calls.at(-1)).toMatchObject({ method: 'POST', path: expect.stringMatching(/\/jobs\/\d+\/play$/), status: 200 });
    expect(approve.data!.approve.job!.status).not.toBe('WAITING');

    const reject = await gql<{ reject: Payload }>(
      'mutation($id: ID!) { reject(input: { id: $id, comment: "not in the demo" }) { errors { code message } upstream { calls { method path status } } job { id name status waitReason } } }',
      { id: production!.id });
    expect(reject.data!.reject.errors).toEqual([]);
    expect(reject.data!.reject.upstream!.calls.at(-1)).toMatchObject({ method: 'POST', path: expect.stringMatching(/\/deployments\/\d+\/approval$/), status: 201 });
    expect(reject.data!.reject.job!.status).toBe('FAILURE');
  });
});
