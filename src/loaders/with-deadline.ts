import { ErrorCode, UpstreamError } from '../errors.ts';

/** Rejects with UPSTREAM_TIMEOUT when `promise` takes longer than `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, backend: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(backend, ErrorCode.UpstreamTimeout, `${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
