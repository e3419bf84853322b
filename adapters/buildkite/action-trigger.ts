import type { ActionCall, ActionInputValue, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { asRecord, int } from '../../src/adapter-kit/fields.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { entitiesOf, refuse, requireCovered, type ActionContext } from './action-deps.ts';
import { formatPipelineId, parseProjectId } from './native-ids.ts';

type Trigger = Extract<ActionRequest, { kind: 'triggerPipeline' }>;

/** The body of `POST …/pipelines/{slug}/builds` (reference §4). */
export interface CreateBuildBody {
  readonly commit: string;
  readonly branch: string;
  readonly message: string;
  readonly env: Readonly<Record<string, string>>;
  readonly meta_data: Readonly<Record<string, string>>;
}

/** What a build created without a `message` input says on Buildkite's build page. */
export const DEFAULT_MESSAGE = 'Triggered via Switchyard';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const META_PREFIX = 'meta_data.';

/**
 * The create-build body for `ref` and the caller's inputs (pure). A Buildkite pipeline declares no
 * inputs through the API, so inputs are sorted by name:
 * - `commit`: what to build (a SHA, tag or ref; default `HEAD`, the branch's newest commit);
 * - `message`: the build's message (default "Triggered via Switchyard");
 * - `meta_data.<key>`: build meta-data (`buildkite-agent meta-data get <key>` in the steps);
 * - any other name: an environment variable of the build, which must be a valid variable name.
 * Values are strings (booleans `true`/`false`, numbers as written). The first bad input is
 * returned instead, for INVALID_INPUT before any write.
 */
export function createBuildBody(ref: string, inputs: Readonly<Record<string, ActionInputValue>>): CreateBuildBody | { input: string; why: string } {
  if (ref.trim() === '') return { input: 'ref', why: 'Buildkite builds a branch: ref must name one' };
  let commit = 'HEAD';
  let message = DEFAULT_MESSAGE;
  const env: Record<string, string> = {};
  const metaData: Record<string, string> = {};
  for (const [name, raw] of Object.entries(inputs)) {
    const value = typeof raw === 'string' ? raw : String(raw);
    if (name === 'commit') {
      if (value.trim() === '') return { input: name, why: 'commit must name a SHA, tag or ref (or be left out for HEAD)' };
      commit = value;
    } else if (name === 'message') {
      message = value;
    } else if (name.startsWith(META_PREFIX)) {
      const key = name.slice(META_PREFIX.length);
      if (key === '') return { input: name, why: 'meta_data.<key> needs a key' };
      metaData[key] = value;
    } else if (ENV_NAME.test(name)) {
      env[name] = value;
    } else {
      return { input: name, why: `${name} is neither commit, message, meta_data.<key> nor an environment variable name` };
    }
  }
  return { commit, branch: ref, message, env, meta_data: metaData };
}

/**
 * triggerPipeline: `POST …/pipelines/{slug}/builds` (201, the new build) with the body above.
 * `workflow` is not used: a Buildkite pipeline has one definition. Buildkite does not check the
 * branch or commit when it creates the build (the agent's checkout does), so there is no
 * UNKNOWN_REF before the build runs; a 422 (invalid attributes) is INVALID_INPUT.
 */
export async function triggerPipeline(ctx: ActionContext, request: Trigger, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  const slug = parseProjectId(request.projectNativeId);
  if (!slug) throw refuse(ctx, ActionRefusal.NotFound, `not a Buildkite pipeline slug: ${request.projectNativeId}`);
  requireCovered(ctx, slug);
  const body = createBuildBody(request.ref, request.inputs);
  if ('why' in body) throw refuse(ctx, ActionRefusal.InvalidInput, body.why, { input: body.input });
  const answer = await ctx.client.send(request.kind, calls, 'POST', ctx.paths.createBuild(slug), signal, body);
  const number = int(asRecord(answer.data)?.number);
  return { calls, pipelineNativeId: number === null ? null : formatPipelineId(slug, number), ...entitiesOf(ctx, answer.data) };
}
