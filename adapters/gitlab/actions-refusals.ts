import { ActionRefusal } from '../../src/errors.ts';

/**
 * Pure: GitLab's refusal of an action (a 4xx and its body) as the shared vocabulary.
 * The texts are GitLab's own (lib/api/ci/jobs.rb, pipelines.rb, ee/app/services/deployments/
 * approval_service.rb): play of a job that is not playable answers 400 "Unplayable Job", a job
 * retry that cannot be done 403 "Job is not retryable", a pipeline on an unknown ref 400
 * {"message":{"base":["Reference not found"]}}.
 */
export interface Refusal {
  readonly reason: ActionRefusal;
  /** The caller's input at fault, when GitLab names one. */
  readonly input?: string;
}

/** GitLab's error body as one line: `message` (a string or {field: [texts]}), else `error`. */
export function gitlabMessage(body: unknown): string {
  if (typeof body === 'string') return body.trim();
  if (!body || typeof body !== 'object') return '';
  const b = body as Record<string, unknown>;
  const m = b.message ?? b.error_description ?? b.error;
  if (typeof m === 'string') return m;
  if (m && typeof m === 'object') {
    return Object.entries(m as Record<string, unknown>)
      .map(([field, texts]) => {
        const list = Array.isArray(texts) ? texts.map(String).join(', ') : String(texts);
        return field === 'base' ? list : `${field} ${list}`;
      })
      .join('; ');
  }
  return '';
}

/** The input GitLab's message names: spec inputs (`name` input: ..., unknown input arguments: name) or a variable. */
export function inputNamedIn(message: string): string | null {
  const patterns = [/`([^`]+)` input/, /unknown input arguments?:\s*([\w-]+)/i, /input `?([\w-]+)`? /i, /variable `?([A-Za-z0-9_]+)`?/i];
  for (const p of patterns) {
    const m = p.exec(message);
    if (m?.[1]) return m[1];
  }
  return null;
}

export function refusalOf(status: number, message: string): Refusal {
  if (status === 404) return { reason: ActionRefusal.NotFound };
  if (/job is not retryable/i.test(message)) return { reason: ActionRefusal.NotRetryable };
  // A 400 too when the role may not set pipeline variables (restrict_user_defined_variables).
  if (status === 401 || status === 403 || /insufficient permissions/i.test(message)) return { reason: ActionRefusal.Forbidden };
  if (/reference not found/i.test(message)) return { reason: ActionRefusal.UnknownRef };
  if (/unplayable job|not waiting for approval/i.test(message)) return { reason: ActionRefusal.NotWaiting };
  if (/same user can not approve|permission to approve/i.test(message)) return { reason: ActionRefusal.SubmitterNotAllowed };
  if (status === 400 && /\binputs?\b|variables?/i.test(message)) {
    const input = inputNamedIn(message);
    return input === null ? { reason: ActionRefusal.InvalidInput } : { reason: ActionRefusal.InvalidInput, input };
  }
  return { reason: ActionRefusal.Refused };
}
