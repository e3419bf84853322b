import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SecretRef } from '../adapter-contract.ts';
import { ConfigError } from '../errors.ts';

/** Who may scrape: a bearer token when one is set, else loopback only, else anyone. */
export type MetricsAccess =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'open' };

export const MIN_TOKEN_LENGTH = 16;

/**
 * The access rule (README "Metrics"): a configured token always applies. Without
 * one, the main port serves metrics to loopback only when authentication is on
 * (the figures name backends and projects), and to anyone in `auth.mode: open`;
 * a listener of its own (`metrics.listen`) serves whoever can reach it.
 */
export function metricsAccess(options: {
  readonly bearerToken: SecretRef | undefined;
  readonly ownListener: boolean;
  readonly authMode: string;
  readonly resolveSecret: (ref: SecretRef | undefined) => string | undefined;
  readonly source: string;
}): MetricsAccess {
  if (options.bearerToken) {
    const token = options.resolveSecret(options.bearerToken);
    const where = 'env' in options.bearerToken ? `the environment variable ${options.bearerToken.env}` : 'a value';
    if (token === undefined) throw new ConfigError([`metrics.bearerToken: expected ${where} to be set, received nothing`], options.source);
    if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError([`metrics.bearerToken: expected at least ${MIN_TOKEN_LENGTH} characters, received ${token.length} from ${where}`], options.source);
    return { kind: 'token', token };
  }
  if (options.ownListener || options.authMode === 'open') return { kind: 'open' };
  return { kind: 'loopback' };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const digest = (text: string) => createHash('sha256').update(text).digest();

/** Null when the request may scrape; else the status and reason to answer. */
export function refuseScrape(req: IncomingMessage, access: MetricsAccess): { status: number; error: string } | null {
  switch (access.kind) {
    case 'open':
      return null;
    case 'loopback':
      return LOOPBACK.test(req.socket.remoteAddress ?? '')
        ? null
        : { status: 403, error: 'metrics are served to loopback only while authentication is on; set metrics.bearerToken or metrics.listen' };
    case 'token': {
      const header = req.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
      // Digests compare in constant time whatever the lengths.
      return presented && timingSafeEqual(digest(presented), digest(access.token)) ? null : { status: 401, error: 'a bearer token is required for metrics' };
    }
  }
}
