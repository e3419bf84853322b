import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import { createAuthenticator, type Authenticator, type Credential } from '../auth/authenticate.ts';
import type { CredentialWatcher } from '../auth/credential-watcher.ts';
import { AuthFailureLimiter } from '../auth/failure-limiter.ts';
import { isAuthError, type AuthError, type Identity } from '../auth/types.ts';
import { createSecretResolver } from '../config/secret.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import type { WsRefusal } from './graphql-ws.ts';
import { createCallerIdentifier, wsRefusalOf, type CallerAddress } from './identify-caller.ts';

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export interface GatewayAuthentication {
  /** Resolves once the authenticator is built (a static JWT key is imported once): listen() waits, so a bad key fails start-up. */
  readonly ready: Promise<Authenticator>;
  /** An HTTP request or SSE stream: credentials from its headers. */
  http(req: IncomingMessage, transport: 'http' | 'sse'): Promise<Identity | AuthError>;
  /**
   * A credential a route read itself (the cc.xml feed takes HTTP Basic, which build monitors
   * send): the same verification, failure limit and audit as every other transport.
   */
  credential(credential: Credential, where: CallerAddress): Promise<Identity | AuthError>;
  /** A graphql-ws `connection_init`: credentials from its payload, else the upgrade request's headers. */
  ws(input: {
    connectionParams: Readonly<Record<string, unknown>> | undefined;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    remoteAddress: string | null;
  }): Promise<Identity | WsRefusal | null>;
  /** Applies a reloaded `auth.apiKeys`; streams of a revoked or changed key end now. */
  reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']): Promise<void>;
}

/**
 * Authentication shared by HTTP, SSE and WebSocket: one authenticator, one
 * failure limiter and one audit trail, whichever transport the credential came on.
 */
export function createGatewayAuthentication(deps: {
  readonly config: GatewayConfig['auth'];
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly credentials: CredentialWatcher;
}): GatewayAuthentication {
  const ready = createAuthenticator(deps.config, { secret: createSecretResolver(deps.env), now: deps.now });
  ready.catch(() => undefined);
  const limiter = new AuthFailureLimiter(deps.config.failureLimit, () => deps.now().getTime());
  const identify = createCallerIdentifier({ authenticator: ready, limiter, audit: deps.audit, log: deps.log });

  return {
    ready,
    http: (req, transport) =>
      identify({ authorization: req.headers.authorization, apiKeyHeader: header(req.headers['x-api-key']) }, { transport, remoteAddress: req.socket.remoteAddress ?? null }),
    credential: (credential, where) => identify(credential, where),
    async ws({ connectionParams, headers, remoteAddress }) {
      const param = (k: string) => (typeof connectionParams?.[k] === 'string' ? (connectionParams[k] as string) : undefined);
      const result = await identify({
        authorization: param('authorization') ?? param('Authorization') ?? header(headers.authorization),
        apiKeyHeader: param('apiKey') ?? param('x-api-key') ?? header(headers['x-api-key']),
      }, { transport: 'ws', remoteAddress });
      return isAuthError(result) ? wsRefusalOf(result) : result;
    },
    async reloadApiKeys(apiKeys) {
      (await ready).updateApiKeys(apiKeys);
      deps.credentials.recheck();
    },
  };
}
