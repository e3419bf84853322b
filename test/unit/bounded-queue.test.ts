import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus.ts';
import { runnerEvent as event } from '../helpers/runner-events.ts';

describe('EventBus', () => {
  it('should deliver only the events a subscriber asked for, in order', async () => {
    const bus = new EventBus(10);
    const a = bus.subscribe('Runner', (e) => e.runner.name === 'a');
    const b = bus.subscribe('Runner', (e) => e.runner.name === 'b');
    for (let i = 0; i < 5; i++) {
      bus.publish(event('a', i));
      bus.publish(event('b', i));
    }
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(`${(await a.next()).value.runner.name}${(await b.next()).value.runner.name}`);
    expect(got).toEqual(['ab', 'ab', 'ab', 'ab', 'ab']);
    await a.return!();
    await b.return!();
    expect(bus.subscriberCount).toBe(0);
  });

  it('should end only the slow subscriber with SUBSCRIPTION_OVERFLOW and keep serving the others', async () => {
    const bus = new EventBus(3);
    const slow = bus.subscribe('Runner', () => true);
    const fast = bus.subscribe('Runner', () => true);
    const fastGot: number[] = [];
    for (let i = 0; i < 10; i++) {
      bus.publish(event('x', i));
      fastGot.push((await fast.next()).value.sequence);
    }
    expect(fastGot).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect(slow.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
    expect(bus.subscriberCount).toBe(1);
    expect((await slow.next()).done).toBe(true);
  });

  it('should release every listener after many subscribe/unsubscribe cycles', async () => {
    const bus = new EventBus(10);
    for (let i = 0; i < 10_000; i++) {
      const it = bus.subscribe('Job', () => true);
      await it.return!();
    }
    expect(bus.subscriberCount).toBe(0);
  });

  it('should never let a throwing filter break publishing', async () => {
    const bus = new EventBus(10);
    bus.subscribe('Runner', () => {
      throw new Error('bad filter');
    });
    const ok = bus.subscribe('Runner', () => true);
    bus.publish(event('a', 1));
    expect((await ok.next()).value.sequence).toBe(1);
  });
});
