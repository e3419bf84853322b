import { afterEach } from 'vitest';

interface Startable {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface SimHarness<O, S> {
  /** Creates and starts a simulator; it is stopped after the current test. */
  boot(opts?: O): Promise<S>;
  /** Awaits a started resource (e.g. a webhook receiver) and closes it after the current test. */
  closing<R extends { close(): Promise<void> }>(started: Promise<R>): Promise<R>;
}

/**
 * Per-test simulator lifecycle for unit tests: registers an afterEach that stops
 * everything booted (and closes everything passed to `closing`) in reverse order.
 * Call at module top level.
 */
export function simHarness<O, S extends Startable>(create: (opts: O | undefined) => S): SimHarness<O, S> {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup = [];
  });
  return {
    async boot(opts) {
      const sim = create(opts);
      await sim.start();
      cleanup.push(() => sim.stop());
      return sim;
    },
    async closing(started) {
      const r = await started;
      cleanup.push(() => r.close());
      return r;
    },
  };
}
