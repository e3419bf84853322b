import type { ActionWorld, ActionsKit, CredentialRecord } from '../../src/adapter-testing.ts';
import { formatPipelineId } from './native-ids.ts';
import { createBuildkiteSimulator } from './simulator/index.ts';

/**
 * The actions part of the Buildkite testing kit (ADAPTERS.md §12–13), for testing.ts:
 * `actions: buildkiteActionsKit`. A simulator with two scoped tokens, as an operator would make
 * them: the read token (read_builds, read_pipelines, read_agents, read_build_logs) in `token`, the
 * write token (write_builds, and read_builds for the build an action reads first) in `writeToken`.
 */
const READ = 'bk-contract-read-token';
const WRITE = 'bk-contract-write-token';
const SLUG = 'web';

function credentialOf(token: string | null): CredentialRecord['credential'] {
  // The simulator logs null for a request with no token or one it does not know.
  return token === READ ? 'read' : token === WRITE ? 'write' : token === null ? 'none' : 'other';
}

async function startActionWorld(): Promise<ActionWorld> {
  const sim = await createBuildkiteSimulator({
    seed: 29, history: 0, rateLimit: { limit: 100_000, windowSeconds: 60 },
    tokens: [
      { token: READ, scopes: ['read_builds', 'read_pipelines', 'read_agents', 'read_build_logs'] },
      { token: WRITE, scopes: ['write_builds', 'read_builds'] },
    ],
  });
  try {
    // A finished build (its unit tests fail), then one left running with a job on an agent.
    const finished = sim.triggerBuild({ pipeline: SLUG, branch: 'main', outcomes: { test: 'failed' } });
    await sim.runUntilIdle();
    const running = sim.triggerBuild({ pipeline: SLUG, branch: 'feature/contract' });
    const runs = () => running.state === 'running' && running.jobs.some((j) => j.state === 'running');
    for (let i = 0; i < 10 && !runs(); i++) await sim.step();
    if (!runs() || finished.finishedAt === null || finished.jobs.length === 0) throw new Error('buildkite action world: builds not as expected');
    return {
      // actionFollowMs 0: an action answers with what its write answered; the suite steps the world itself.
      backend: { url: sim.url, organization: sim.organization, token: { value: READ }, requestsPerMinute: 10_000, actionFollowMs: 0 },
      writeCredentials: { writeToken: { value: WRITE } },
      runningPipeline: formatPipelineId(SLUG, running.number),
      finishedPipeline: formatPipelineId(SLUG, finished.number),
      unknownPipeline: formatPipelineId(SLUG, 999_999),
      step: () => sim.step(),
      credentialLog: () => sim.tokenLog.map((r) => ({ method: r.method, path: r.path, credential: credentialOf(r.token) })),
      stop: () => sim.close(),
    };
  } catch (error) {
    await sim.close();
    throw error;
  }
}

export const buildkiteActionsKit: ActionsKit = {
  startWorld: startActionWorld,
  // Buildkite refuses to cancel a build that is not scheduled, running or failing (422).
  refusesCancelOfFinished: true,
};
