/**
 * A sink URL must be https, unless it points at this machine (a local broker, a test receiver) or
 * the sink says `allowInsecureUrl`: messages would otherwise cross the network in clear.
 * Returns the problem, or null. (Kept local to the CDEvents sink; a shared check may replace it.)
 */
export function insecureUrlProblem(url: URL, allowInsecureUrl: boolean): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return `a URL with scheme ${url.protocol} (only https, or http to loopback)`;
  if (allowInsecureUrl || isLoopbackHost(url.hostname)) return null;
  return `plain http to ${url.hostname}, which is not loopback: use https, or set allowInsecureUrl: true`;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** What logs and errors may show of a URL: scheme, host and path, never the query (tokens live there) or credentials. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
