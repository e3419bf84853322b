/**
 * Request targets are parsed against a fixed base, never against the Host
 * header: a client controls both, and `Host: [` or `GET http://[/x` must not
 * be able to throw where a listener cannot catch it.
 */
const BASE = 'http://localhost';

/**
 * The path and query of a request target (origin-form `/graphql?x`, or the
 * absolute-form `http://host/graphql` that proxies send) on the fixed base;
 * null when the target cannot be parsed (answer 400).
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  if (!target) return null;
  try {
    // Concatenated, not resolved: `//evil/x` stays a path on the fixed host.
    if (target.startsWith('/')) return new URL(BASE + target);
    const absolute = new URL(target);
    if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:' && absolute.protocol !== 'ws:' && absolute.protocol !== 'wss:') return null;
    return new URL(BASE + absolute.pathname + absolute.search);
  } catch {
    return null;
  }
}
