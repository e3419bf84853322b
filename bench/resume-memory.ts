/**
 * Heap held by resuming subscribers that do not read (item 18): a Redis event
 * history of EVENTS runner events of about 1 KB, then SUBSCRIBERS resumes from
 * its first cursor, none of them reading. Prints the heap growth after GC.
 * Run: node --expose-gc --import tsx bench/resume-memory.ts  (needs Redis on 127.0.0.1:6379)
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { EventBus } from '../src/events/event-bus.ts';
import { formatCursor } from '../src/events/event-cursor.ts';
import { RedisEventStore } from '../src/events/redis-event-store.ts';
import { runnerEvent } from '../test/helpers/runner-events.ts';

const EVENTS = 10_000;
const SUBSCRIBERS = Number(process.env['SUBSCRIBERS'] ?? 200);
const QUEUE_LIMIT = 256;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const prefix = `switchyard:bench:resume:${randomUUID()}:`;
const redis = new Redis('redis://127.0.0.1:6379');
let appended = 0;
const bus = new EventBus(QUEUE_LIMIT, (deliver) => new RedisEventStore(deliver, {
  redisUrl: 'redis://127.0.0.1:6379', streamPrefix: prefix, limits: { maxEvents: EVENTS * 2, maxAgeSeconds: 600 }, log: pino({ level: 'silent' }),
  hooks: { appended: () => void appended++ },
}));
try {
  for (let i = 0; i < EVENTS; i++) {
    const e = runnerEvent(`r${i}-`.padEnd(1000, 'x'), i);
    bus.publish(e);
  }
  const deadline = Date.now() + 60_000;
  while (appended < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const [[firstId]] = (await redis.xrange(`${prefix}Runner`, '-', '+', 'COUNT', 1)) as unknown as [[string]];
  const after = formatCursor('r', (await redis.get(`${prefix}epoch`))!, firstId);
  gc();
  const before = process.memoryUsage().heapUsed;
  const subs = Array.from({ length: SUBSCRIBERS }, () => bus.subscribe('Runner', () => true, after));
  // Let every replay read as far as it will without a reader (bounded count of turns).
  for (let i = 0; i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  gc();
  const held = process.memoryUsage().heapUsed - before;
  console.log(JSON.stringify({ resumeMemory: { events: EVENTS, subscribers: SUBSCRIBERS, queuedPerSubscriber: subs[0]!.size, heapGrowthMB: Math.round(held / 1e5) / 10, perSubscriberKB: Math.round(held / SUBSCRIBERS / 1024) } }));
  await Promise.all(subs.map((s) => s.return()));
} finally {
  await bus.close();
  for (;;) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length === 0) break;
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  }
  redis.disconnect();
}
