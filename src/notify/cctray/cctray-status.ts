import type { CiStatus } from '../../model.ts';

/** cctray.org/v1 `activity`. */
export type CctrayActivity = 'Sleeping' | 'Building' | 'CheckingModifications';
/** cctray.org/v1 `lastBuildStatus`. */
export type CctrayBuildStatus = 'Success' | 'Failure' | 'Exception' | 'Unknown';

export const CCTRAY_BUILD_STATUSES: readonly CctrayBuildStatus[] = ['Success', 'Failure', 'Exception', 'Unknown'];

/**
 * What the latest pipeline of a feed entry is doing (ci-backends.md §4.5, "Projection to
 * external vocabularies"). Waiting of any kind is CheckingModifications: nothing runs yet,
 * but something is about to. UNKNOWN (a native state we cannot read) shows as Sleeping:
 * a monitor must not spin for a pipeline nobody can tell is running.
 */
export const CCTRAY_ACTIVITY: Readonly<Record<CiStatus, CctrayActivity>> = {
  PENDING: 'CheckingModifications',
  QUEUED: 'CheckingModifications',
  WAITING: 'CheckingModifications',
  RUNNING: 'Building',
  CANCELING: 'Building',
  SUCCESS: 'Sleeping',
  UNSTABLE: 'Sleeping',
  FAILURE: 'Sleeping',
  TIMED_OUT: 'Sleeping',
  ERROR: 'Sleeping',
  CANCELED: 'Sleeping',
  SKIPPED: 'Sleeping',
  UNKNOWN: 'Sleeping',
};

/**
 * The verdict of a finished pipeline; null for one not finished (the entry keeps the previous
 * finished pipeline's verdict, so a monitor does not lose "red" while the fix builds).
 * ERROR is Exception: the CI broke, not the code. CANCELED and SKIPPED are Unknown (grey):
 * neither says anything about the code, and showing them red would page people for a
 * superseded run; showing them green would hide that the last run did not check anything.
 */
export const CCTRAY_BUILD_STATUS: Readonly<Record<CiStatus, CctrayBuildStatus | null>> = {
  PENDING: null,
  QUEUED: null,
  WAITING: null,
  RUNNING: null,
  CANCELING: null,
  SUCCESS: 'Success',
  UNSTABLE: 'Failure',
  FAILURE: 'Failure',
  TIMED_OUT: 'Failure',
  ERROR: 'Exception',
  CANCELED: 'Unknown',
  SKIPPED: 'Unknown',
  UNKNOWN: null,
};
