import type { SecretRef } from '../../adapter-contract.ts';

/**
 * Where a sink may send (issue 16, "Bad input and faults"): https:// only, unless the host is
 * loopback (a receiver on this machine: nothing crosses the network) or the sink's config says
 * `allowInsecureUrl`. A refusal names the key, what was expected and what was received, but a
 * secret URL (Slack and Teams carry their token in the path) is shown as scheme and host only.
 */

export type ResolveSecret = (ref: SecretRef | undefined) => string | undefined;

export interface SinkUrl {
  readonly url: URL;
  /** What logs, errors and GraphQL may show: scheme and host for a secret URL; scheme, host and path (never the query) otherwise. */
  readonly display: string;
}

/** A refusal, one line naming the key: createSinks gathers them into one ConfigError. */
export class SinkConfigProblem extends Error {
  override readonly name = 'SinkConfigProblem';
}

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost. `hostname` as URL gives it (IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  // Only the name itself: `*.localhost` is loopback by RFC 6761, but a resolver may still ask DNS for it.
  if (host === 'localhost') return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  if (LOOPBACK_V4.test(host)) return true;
  // WHATWG URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  return /^::ffff:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/.test(host);
}

/** scheme://host[:port]: all of a secret URL that may be shown. */
export function originOnly(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** scheme://host[:port]/path, never the query (a token may hide there) nor user:password. */
export function withoutQuery(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** What a raw value looks like when it is refused: never the whole of a secret. */
function shownValue(raw: string, secret: boolean): string {
  try {
    const url = new URL(raw);
    return secret ? `${originOnly(url)}/…` : withoutQuery(url);
  } catch {
    return secret ? 'a value that is not a URL' : JSON.stringify(raw.slice(0, 80));
  }
}

/**
 * Resolves a sink URL (plain or a `{ env }` reference) and applies the policy. `key` is the
 * config path, e.g. `notifications.sinks[0].url`. Throws SinkConfigProblem.
 */
export function resolveSinkUrl(value: string | SecretRef, key: string, options: { readonly allowInsecureUrl: boolean; readonly resolveSecret: ResolveSecret }): SinkUrl {
  const secret = typeof value !== 'string';
  const raw = typeof value === 'string' ? value : options.resolveSecret(value);
  if (raw === undefined) {
    const where = typeof value !== 'string' && 'env' in value ? `the environment variable ${value.env}` : 'a value';
    throw new SinkConfigProblem(`${key}: expected ${where} to be set to the sink's URL, received nothing`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SinkConfigProblem(`${key}: expected an absolute https:// URL, received ${shownValue(raw, secret)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SinkConfigProblem(`${key}: expected an https:// URL, received the scheme ${url.protocol}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.allowInsecureUrl) {
    throw new SinkConfigProblem(
      `${key}: expected an https:// URL (plain http:// only to a loopback host, or with allowInsecureUrl: true), received ${shownValue(raw, secret)}`,
    );
  }
  return { url, display: secret ? originOnly(url) : withoutQuery(url) };
}
