import type { BackendLogs, LogAvailability, LogRead } from '../../src/adapter-contract.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';
import type { JobModel } from '../../src/model.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { formatPipelineId, jobPath, parseJobId } from './native-ids.ts';
import { ProgressiveTextError, readProgressiveText } from './progressive-text.ts';

/**
 * Job logs (issue 17, ADAPTERS.md §14). A Jenkins job here is a stage of a Pipeline build or a
 * freestyle build as a whole; either way its log is the build's console, read progressively
 * with `logText/progressiveText?start=<offset>` and the read credentials (a GET: no crumb).
 * Every stage of a build has the same source, the build's id, so the core keeps one tail per
 * build however many of its stages are watched.
 */

/**
 * Jenkins' own console page polls progressiveText once a second, and the controller writes the
 * console as steps print (no upload batching as on GitLab), so reading faster only costs the
 * controller requests; reading slower delays output a user watching the page already sees.
 */
export const JENKINS_LOG_MIN_POLL_MS = 1_000;

/** A read with Jenkins' own next offset (`X-Text-Size`); the core may use it once LogRead carries it. */
export interface JenkinsLogRead extends LogRead {
  readonly nextOffset: number;
}

export interface JenkinsLogsDeps {
  readonly backend: string;
  readonly client: JenkinsClient;
  /** Whether a job full name lies inside the configured roots (no request). */
  readonly covers: (fullName: string) => boolean;
}

const CONSOLE = 'its log is the console of its build, which Jenkins serves as it grows';

/** Pure: what can be read of `job` now. */
export function jenkinsLogAvailability(job: JobModel): LogAvailability {
  const stage = parseJobId(job.nativeId)?.kind === 'stage';
  const what = stage ? 'This stage has no output yet: its build has not started' : 'This build has not started';
  switch (job.status) {
    case 'PENDING':
    case 'QUEUED':
      return { kind: 'NONE', reason: `${what}; ${stage ? 'its' : 'the'} console log appears once it runs.` };
    case 'SKIPPED':
      return stage
        ? { kind: 'LIVE', reason: `This stage was skipped; ${CONSOLE}, and shows why.` }
        : { kind: 'LIVE', reason: `Jenkins did not build this; ${CONSOLE}.` };
    default:
      return { kind: 'LIVE', reason: stage ? `A stage has no log of its own in Jenkins: ${CONSOLE}.` : `The build's console log, which Jenkins serves as it grows.` };
  }
}

export function createJenkinsLogs(deps: JenkinsLogsDeps): BackendLogs {
  const buildOf = (jobNativeId: string) => {
    const ref = parseJobId(jobNativeId);
    return ref && deps.covers(ref.fullName) ? ref : null;
  };
  return {
    availability: jenkinsLogAvailability,
    minPollIntervalMs: JENKINS_LOG_MIN_POLL_MS,
    // Every stage of a build shares the build's console: the build's id is the source.
    logSource: (jobNativeId) => {
      const ref = parseJobId(jobNativeId);
      return ref ? formatPipelineId(ref.fullName, ref.number) : jobNativeId;
    },
    async read(jobNativeId, offset, signal): Promise<JenkinsLogRead | null> {
      const ref = buildOf(jobNativeId);
      // Malformed or outside the roots: no log here, and no request.
      if (!ref || !Number.isSafeInteger(offset) || offset < 0) return null;
      const path = `${jobPath(ref.fullName)}/${ref.number}/logText/progressiveText`;
      const answer = await nullOn404(deps.client.getBytes(path, { start: String(offset) }, signal));
      if (answer === null) return null;
      try {
        const read = readProgressiveText(offset, answer.bytes, answer.headers.get('x-text-size'), answer.headers.get('x-more-data'));
        return { bytes: read.bytes, complete: read.complete, nextOffset: read.nextOffset };
      } catch (error) {
        if (!(error instanceof ProgressiveTextError)) throw error;
        throw new UpstreamError(deps.backend, ErrorCode.UpstreamBadResponse, `GET ${path} ${error.message}`, { status: 200, method: 'GET', path });
      }
    },
  };
}
