import type { JobModel, PipelineModel, StepModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { asRecord, loose, records, str, type Loose } from './fields.ts';
import { jobPath } from './native-ids.ts';
import { isWorkflowClass, toBuildJob, toPipeline, toStageJob, toStep } from './normalize.ts';
import { BUILD_TREE } from './queries.ts';

/**
 * Reads one build's full state: the build itself (one `tree=` request, or
 * none when the caller already holds it), and for Pipeline builds the stage
 * view's `wfapi/describe` (one request) plus `execution/node/<id>/wfapi/describe`
 * per stage for its steps. Steps of a finished stage never change, so they are
 * cached and not read again.
 */
export interface BuildState {
  readonly pipeline: PipelineModel;
  readonly jobs: readonly JobModel[];
  readonly raw: Loose;
}

const MAX_CACHED_STAGES = 5000;

export class BuildReader {
  private readonly finishedSteps = new Map<string, readonly StepModel[]>();

  constructor(
    private readonly client: JenkinsClient,
    private readonly backend: string,
  ) {}

  /** The raw build, or null when Jenkins answers 404. */
  fetchBuild(fullName: string, number: number): Promise<Loose | null> {
    return nullOn404(this.client.getJson(`${jobPath(fullName)}/${number}/api/json`, BUILD_TREE)).then((b) => (b === null ? null : loose(b)));
  }

  /** Requests `state()` will make for this build (for the poller's budget). */
  costOf(raw: Loose): number {
    return isWorkflowClass(raw._class) ? 2 : 0;
  }

  /** The build's Pipeline and Jobs. */
  async state(fullName: string, raw: Loose, branch: string | null): Promise<BuildState> {
    if (!isWorkflowClass(raw._class) && typeof raw._class === 'string') {
      const pipeline = toPipeline(this.backend, fullName, raw, { branch });
      return { pipeline, jobs: [toBuildJob(this.backend, fullName, raw, { branch })], raw };
    }
    const number = Number(raw.number);
    const describe = await nullOn404(this.client.getJson(`${jobPath(fullName)}/${number}/wfapi/describe`));
    if (describe === null && typeof raw._class !== 'string') {
      // No stage view: treat it as a single-Job build.
      const pipeline = toPipeline(this.backend, fullName, raw, { branch });
      return { pipeline, jobs: [toBuildJob(this.backend, fullName, raw, { branch })], raw };
    }
    const run = loose(describe);
    const pipeline = toPipeline(this.backend, fullName, raw, { branch, wfapiStatus: run.status });
    const ctx = { fullName, number, buildUrl: str(raw.url), branch: pipeline.branch };
    const stages = records(run.stages);
    const jobs = await Promise.all(
      stages.map(async (stage) => {
        const steps = await this.stepsOf(fullName, number, stage);
        try {
          return toStageJob(this.backend, ctx, stage, steps);
        } catch {
          return null;
        }
      }),
    );
    return { pipeline, jobs: jobs.filter((j): j is JobModel => j !== null), raw };
  }

  private async stepsOf(fullName: string, number: number, stage: Loose): Promise<readonly StepModel[]> {
    const id = str(stage.id);
    if (!id) return [];
    const key = `${fullName}#${number}/${id}`;
    const cached = this.finishedSteps.get(key);
    if (cached) return cached;
    const inline = records(stage.stageFlowNodes);
    let nodes: Loose[];
    if (inline.length > 0) {
      nodes = inline;
    } else {
      const answer = await nullOn404(this.client.getJson(`${jobPath(fullName)}/${number}/execution/node/${encodeURIComponent(id)}/wfapi/describe`));
      nodes = records(asRecord(answer)?.stageFlowNodes);
    }
    const steps = nodes.map((n, i) => toStep(n, i));
    const stageStatus = toStageStatusTerminal(stage.status);
    if (stageStatus) {
      this.finishedSteps.set(key, steps);
      while (this.finishedSteps.size > MAX_CACHED_STAGES) {
        const oldest = this.finishedSteps.keys().next();
        if (oldest.done) break;
        this.finishedSteps.delete(oldest.value);
      }
    }
    return steps;
  }
}

function toStageStatusTerminal(status: unknown): boolean {
  return typeof status === 'string' && isTerminal(toStep({ status }, 0).status);
}
