import type { Logger } from 'pino';
import type { BackendRegistry } from '../../backend-registry.ts';
import type { HistoryReads } from '../../history/history-reads.ts';
import type { LiveState } from '../../state/live-state.ts';
import type { NotificationsConfig } from '../notify-config.ts';
import type { NotificationEnqueuer } from '../outbox-port.ts';
import type { ProjectInfo } from './build-notification.ts';

/** What every part of the rule engine is given: built once by createNotificationRules. */
export interface EngineDeps {
  readonly config: NotificationsConfig;
  readonly enqueuer: NotificationEnqueuer;
  readonly state: LiveState;
  readonly registry: BackendRegistry;
  readonly history: HistoryReads;
  readonly log: Logger;
  readonly now: () => Date;
  readonly project: (backend: string, nativeId: string) => Promise<ProjectInfo | null>;
}
