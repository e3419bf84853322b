import type { Logger } from 'pino';
import type { EntityModel } from '../model.ts';
import type { HealthSnapshot, HealthStateName } from '../health.ts';

/** What a backend's first successful poll found, as one line an operator can read at start-up. */
export function firstSyncLine(backend: string, entities: readonly EntityModel[], webhooks: boolean, ms: number): { fields: Record<string, number | string | boolean>; message: string } {
  const projects = new Set<string>();
  const count = { runners: 0, pipelines: 0, jobs: 0 };
  for (const e of entities) {
    if (e.type === 'Project') projects.add(e.nativeId);
    else if (e.type === 'Pipeline' || e.type === 'Job') projects.add(e.projectNativeId);
    if (e.type === 'Runner') count.runners++;
    else if (e.type === 'Pipeline') count.pipelines++;
    else if (e.type === 'Job') count.jobs++;
  }
  const fields = { projects: projects.size, ...count, webhooks, ms };
  const seconds = (ms / 1000).toFixed(1);
  return {
    fields,
    message: `${backend}: first poll done in ${seconds} s, saw ${projects.size} projects, ${count.runners} runners, ${count.pipelines} pipelines, ${count.jobs} jobs; webhooks ${webhooks ? "on" : "off (polling only)"}`,
  };
}

/**
 * One line per health change of a backend: warn when it gets worse, info when it recovers.
 * The first UNKNOWN → OK is the first-sync line's to tell.
 */
export function logHealthChanges(log: Logger, backend: string, now: () => Date): (from: HealthStateName, to: HealthStateName, snapshot: HealthSnapshot) => void {
  let badSince: Date | null = null;
  return (from, to, snapshot) => {
    if (from === 'UNKNOWN' && to === 'OK') return;
    if (to === 'OK') {
      const after = badSince ? ` after ${Math.round((now().getTime() - badSince.getTime()) / 1000)} s` : '';
      badSince = null;
      log.info({ backend, from, to }, `${backend}: health ${from} → OK (recovered${after})`);
      return;
    }
    badSince ??= now();
    log.warn({ backend, from, to, code: snapshot.lastErrorCode, error: snapshot.lastErrorMessage }, `${backend}: health ${from} → ${to} (${snapshot.lastErrorCode ?? 'error'}: ${snapshot.lastErrorMessage ?? 'no message'})`);
  };
}
