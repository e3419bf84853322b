import { operationHash, type AuditEntry } from './audit-record.ts';
import { ErrorCode } from '../errors.ts';

/**
 * Deterministic, realistic audit entries of every kind (tests, benchmarks).
 * `i` picks the kind and varies the content.
 */
export function sampleEntry(i: number): AuditEntry {
  switch (i % 5) {
    case 0:
    case 1:
      return {
        kind: 'graphql',
        identity: i % 3 === 0
          ? { id: 'key:ci-bot', kind: 'api-key', subject: 'ci-bot', fingerprint: (i * 2654435761 >>> 0).toString(16).padStart(16, '0') }
          : { id: 'anonymous', kind: 'anonymous' },
        operationType: i % 7 === 0 ? 'subscription' : 'query',
        operationName: i % 11 === 0 ? null : `Runs${i % 13}`,
        operationHash: operationHash(`query Runs${i % 13} { runs(first: ${i % 50}) { id status } }`),
        variables: { project: `octo-org/repo-${i % 17}`, first: i % 50, status: ['FAILED', 'RUNNING'], token: '[redacted]' },
        outcome: (['ok', 'ok', 'ok', 'denied', 'limited', 'error'] as const)[i % 6]!,
        errorCodes: i % 6 === 5 ? [ErrorCode.UpstreamUnavailable] : [],
        durationMs: (i * 37) % 900 + 0.25,
        transport: (['http', 'sse', 'ws'] as const)[i % 3]!,
      };
    case 2:
      return {
        kind: 'webhook',
        backend: i % 2 === 0 ? 'github-main' : 'gitlab',
        deliveryId: `d-${i}`,
        verified: i % 9 !== 0,
        ...(i % 9 === 0 ? { reason: 'signature mismatch' } : {}),
        effect: i % 9 === 0 ? 'rejected' : (['published', 'duplicate', 'ignored', 'pending'] as const)[i % 4]!,
        entities: i % 4,
      };
    case 3:
      return i % 2 === 0
        ? { kind: 'auth-failure', transport: 'ws', reason: 'TOKEN_EXPIRED', remoteAddress: `10.0.${i % 256}.7`, credentialKind: 'jwt' }
        : { kind: 'subscription-end', id: `sub-${i}`, reason: 'client-closed', identity: { id: 'jwt:alice', kind: 'jwt', subject: 'alice' } };
    default:
      return {
        kind: 'config-load',
        source: '/etc/switchyard/config.yaml',
        backends: ['github-main', 'gitlab', 'jenkins'],
        configSha256: operationHash(`config ${i}`),
        demo: false,
      };
  }
}
