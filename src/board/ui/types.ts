/** The shapes the board's documents (queries.ts) select. */

export type CiStatus =
  | 'PENDING' | 'QUEUED' | 'WAITING' | 'RUNNING' | 'CANCELING' | 'SUCCESS' | 'UNSTABLE'
  | 'FAILURE' | 'TIMED_OUT' | 'ERROR' | 'CANCELED' | 'SKIPPED' | 'UNKNOWN';

export interface BackendRef { name: string; provider: string }

export interface Project { id: string; fullName: string; url: string | null; defaultBranch: string | null; backend: BackendRef }

export interface FailedJob { id: string; name: string; status: CiStatus; url: string | null; native: { failureReason: string | null } }

export interface Pipeline {
  id: string;
  status: CiStatus;
  name: string | null;
  number: number | null;
  url: string | null;
  branch: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  backend: BackendRef;
  project: Omit<Project, 'backend'>;
  estimate: { estimatedDuration: number | null; estimatedFinishAt: string | null; remainingSeconds: number | null } | null;
  jobs: { nodes: FailedJob[] };
}

export interface PipelineEvent { cursor: string; previousStatus: CiStatus | null; pipeline: Pipeline }

export interface Pool {
  key: string;
  labels: string[];
  hosted: boolean;
  backend: BackendRef;
  runners: { online: number; busy: number; idle: number; paused: number; offline: number } | null;
  queue: { depth: number; oldestWaitSeconds: number | null };
}

export interface BoardData {
  backends: BackendRef[];
  projects: { nodes: Project[] };
  pipelines: { nodes: Pipeline[] };
}

export interface RedSinceData {
  timeToGreen: { series: { backend: string; project: string; branch: string | null; ongoing: { startedAt: string } | null }[] } | null;
}

export interface AnalyticsData {
  pipelineStats: { groups: { key: { backend: string; project: string; bucket: string }; count: number; successRate: number; duration: { p95: number | null } }[] } | null;
  timeToGreen: { series: { backend: string; project: string; branch: string | null; periods: { endedAt: string | null; durationMs: number }[] }[] } | null;
}
