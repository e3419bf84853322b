import type { IncomingMessage } from 'node:http';
import type { Credential } from '../../auth/authenticate.ts';

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * The request's credential, HTTP Basic included: build monitors (CCMenu, nevergreen, CCTray)
 * send a user name and password, so the password is the API key (or, if it is empty, the
 * user name: some clients have a single "token" field). It is handed on as a bearer token,
 * so a different X-Api-Key beside it is refused as two credentials, as on /graphql.
 * A malformed Basic value is passed on unchanged and refused by the authenticator.
 */
export function credentialOf(req: IncomingMessage): Credential {
  const authorization = first(req.headers.authorization);
  const apiKeyHeader = first(req.headers['x-api-key']);
  const basic = authorization ? /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization) : null;
  if (!basic) return { authorization, apiKeyHeader };
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const key = password.length > 0 ? password : user;
  // No key at all (`Basic Og==`, an empty user and password): as if no Authorization was sent.
  return { authorization: key.length > 0 ? `Bearer ${key}` : undefined, apiKeyHeader };
}
