import type { Logger } from 'pino';
import type { BackendRegistry } from '../backend-registry.ts';
import type { HistoryStatus } from '../history/history-service.ts';

export interface SummarySources {
  readonly registry: BackendRegistry;
  readonly subscriptions: () => number;
  readonly connections: () => number;
  readonly history: () => Promise<HistoryStatus>;
}

/** The gateway's state in one line: what an operator skimming the log wants to see every few minutes. */
export async function summaryLine(sources: SummarySources): Promise<{ fields: Record<string, unknown>; message: string }> {
  const backends = sources.registry.all().map((b) => `${b.name} ${b.health.current.state}`);
  const history = await sources.history().catch((error: unknown) => ({ state: 'degraded', cause: error instanceof Error ? error.message : String(error), written: 0 }) as const);
  const subscriptions = sources.subscriptions();
  const connections = sources.connections();
  const historyText = history.state === 'off' ? 'history off' : `history ${history.state}, ${history.written} transitions written`;
  return {
    fields: { backends, subscriptions, connections, history: history.state, historyWritten: history.written },
    message: `status: ${backends.join(', ')}; ${subscriptions} subscriptions over ${connections} connections; ${historyText}`,
  };
}

/** Logs the summary every `minutes` (0: never) until stopped. */
export function startPeriodicSummary(log: Logger, minutes: number, sources: SummarySources): { stop(): void } {
  if (minutes <= 0) return { stop: () => undefined };
  const timer = setInterval(() => {
    void summaryLine(sources).then(({ fields, message }) => log.info(fields, message));
  }, minutes * 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
