import type { SecretRef } from '../../adapter-contract.ts';
import type { SinkConfig } from '../notify-config.ts';

/** Scheme, host and path of a URL: never its query, fragment or credentials. */
function withoutSecrets(url: string, keepPath: boolean): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${keepPath ? u.pathname : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * Where a sink sends, for GraphQL and logs, from its config alone. A URL given as a secret
 * reference (Slack and Teams carry their token in the path) shows where it comes from; an
 * inline secret URL shows its scheme and host only.
 */
export function sinkTarget(sink: SinkConfig): string {
  if (sink.type === 'log') return `log (the last ${sink.keep} messages, in memory)`;
  const url: string | SecretRef = sink.url;
  if (typeof url === 'string') return withoutSecrets(url, true);
  if ('env' in url) return `${sink.type} (url from env ${url.env})`;
  return withoutSecrets(url.value, false);
}
