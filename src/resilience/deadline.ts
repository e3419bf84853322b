/**
 * Runs `work` with a signal that aborts when `parent` aborts or, with
 * `deadlineMs`, when the deadline passes (reason: `timeoutError()`), and
 * rejects at once with that reason: the caller gets its answer at the deadline
 * and the work, which receives the signal, stops (requests aborted, queued
 * requests leave their queue, waits end) instead of running on unobserved.
 */
export async function underDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: { readonly parent?: AbortSignal; readonly deadlineMs?: number; readonly timeoutError: () => Error },
): Promise<T> {
  const { parent, deadlineMs } = options;
  if (!parent && deadlineMs === undefined) return work(new AbortController().signal);
  const controller = new AbortController();
  const { signal } = controller;
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = deadlineMs === undefined ? undefined : setTimeout(() => controller.abort(options.timeoutError()), deadlineMs);
  timer?.unref();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(signal), aborted]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
    signal.removeEventListener('abort', onAbort);
  }
}
