import { describe, expect, it } from 'vitest';
import { eventLoopLag } from '../../src/server/load-shedding.ts';

describe('eventLoopLag', () => {
  it('sees a blocked event loop', async () => {
    const source = eventLoopLag();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const blockedUntil = Date.now() + 300;
      while (Date.now() < blockedUntil) {
        // Busy: the loop cannot turn.
      }
      await new Promise((r) => setTimeout(r, 30));
      // The loop was blocked 300 ms: at least that much delay was seen, whatever else ran.
      expect(source.sample()).toBeGreaterThanOrEqual(250);
    } finally {
      source.stop?.();
    }
  });
});
