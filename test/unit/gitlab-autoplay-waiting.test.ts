import { describe, expect, it } from 'vitest';
import { Autoplay } from '../../adapters/gitlab/simulator/scenario.ts';
import { World } from '../../adapters/gitlab/simulator/world.ts';
import { DEFAULT_RUNNERS } from '../../adapters/gitlab/simulator/world-seed.ts';
import { createRandom } from '../../sim-kit/seeded-random.ts';

/**
 * Demo autoplay plays blocking manual jobs (a deploy someone would start), but leaves optional
 * manual jobs and deployments awaiting approval to a person: the demo's GraphiQL user acts on them.
 */
describe('GitLab autoplay and work that waits for a person', () => {
  it('should leave an optional manual job and a deployment awaiting approval waiting, with no autoplay error', async () => {
    const random = createRandom(21);
    const world = new World({ group: 'platform', projects: ['backend', 'deploy'], runners: DEFAULT_RUNNERS, now: () => new Date(), random });
    const { pipeline } = world.createPipeline({
      project: 'deploy', jobs: [
        { name: 'package', stage: 'build', tags: ['docker'] },
        { name: 'review', stage: 'deploy', when: 'manual' },
        { name: 'production', stage: 'deploy', environment: 'production', approval: true },
        { name: 'gate', stage: 'deploy', when: 'manual', allowFailure: false },
      ],
    });
    for (let t = world.transitions()[0]; t; t = world.transitions()[0]) world.apply(t);
    const job = (name: string) => world.jobsOf(pipeline.id).find((j) => j.name === name)!;
    expect([job('review').status, job('production').status, job('gate').status]).toEqual(['manual', 'manual', 'manual']);

    const errors: unknown[] = [];
    const autoplay = new Autoplay({ world, random, emit: async () => undefined, onError: (e) => errors.push(e) });
    // Long enough to play the blocking one and many manual jobs of its own pipelines.
    for (let i = 0; i < 1500; i++) await autoplay.tick();
    expect(job('gate').status).not.toBe('manual');
    expect(errors).toEqual([]);
    expect([job('review').status, job('production').status]).toEqual(['manual', 'manual']);
  });
});
