import { describe, expect, it } from 'vitest';
import { keepKnownAttempt } from '../../src/ingest/ingestor.ts';
import { job } from '../helpers/ci-models.ts';

/** A job id is one attempt: a read that cannot see it (GitLab REST job, Pipeline Hook build: 1) must not lower it. */
describe('keepKnownAttempt', () => {
  it('should keep the attempt already known when an observation reports a lower one', () => {
    const known = job('g/jobs/2', { attempt: 2, status: 'QUEUED' });
    const blind = job('g/jobs/2', { attempt: 1, status: 'RUNNING' });
    expect(keepKnownAttempt(blind, known)).toEqual({ ...blind, attempt: 2 });
  });

  it('should take a higher or first attempt as observed', () => {
    const seen = job('g/jobs/2', { attempt: 3 });
    expect(keepKnownAttempt(seen, job('g/jobs/2', { attempt: 2 }))).toBe(seen);
    expect(keepKnownAttempt(seen, undefined)).toBe(seen);
  });
});
