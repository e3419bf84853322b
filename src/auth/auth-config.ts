import { z } from 'zod';
import { secretRefSchema } from '../adapter-contract.ts';
import { validateProjectPattern } from './scope.ts';

/**
 * The top-level `auth` section of the gateway config.
 *
 *   auth:
 *     mode: required            # default; `open` is an explicit opt-out (demo / local dev)
 *     apiKeys:
 *       - id: ci-dashboard
 *         hash: scrypt$ln=14,r=8,p=1$<salt>$<hash>   # from `switchyard keys create ci-dashboard`
 *         scopes: { backends: [github-main], projects: ['octo-org/*'] }
 *     jwt:
 *       issuer: https://login.example.com/
 *       audience: switchyard
 *       jwksUrl: https://login.example.com/.well-known/jwks.json
 */

/** Key ids: the `<id>` in `sy_<id>_<secret>`. No `_`, so the key splits unambiguously. */
export const API_KEY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BACKEND_NAME = /^(\*|[a-z0-9][a-z0-9-]{0,62})$/;
/**
 * `scrypt$<salt>$<hash>` (default cost ln=14,r=8,p=1) or
 * `scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`; salt and hash in base64/base64url.
 */
export const API_KEY_HASH = /^scrypt\$(?:ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$)?[A-Za-z0-9+/_-]{16,}={0,2}\$[A-Za-z0-9+/_-]{32,}={0,2}$/;

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type JwtAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'];

export const projectPatternSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = validateProjectPattern(value);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  })
  .describe('Project pattern: "octo-org/api", "octo-org/*" (one level), "team-a/**" (any depth), "**" (all). Matched case-insensitively against the full name or native id.');

/** `scopes[].actions` and `auth.anonymousActions`: permissions, or '*' for all of them. */
export const actionGrantsSchema = z.array(z.enum(['cancel', 'retry', 'trigger', 'approve', '*']));

export const scopeGrantSchema = z
  .object({
    backends: z
      .array(z.string().regex(BACKEND_NAME, 'a backend name or "*"'))
      .min(1)
      .describe('Backend names this grant covers; "*" = every configured backend.'),
    projects: z
      .array(projectPatternSchema)
      .min(1)
      .optional()
      .describe('Project patterns within those backends; absent = every project.'),
    runners: z
      .boolean()
      .optional()
      .describe('Whether runners (shared infrastructure) of those backends are visible. Default: true without `projects`, false with.'),
    actions: actionGrantsSchema
      .optional()
      .describe('Actions this grant allows on its backends and projects (ACTIONS.md): cancel, retry, trigger, approve, or "*". Absent = none (read-only).'),
  })
  .strict()
  .describe('One grant: backends and, optionally, project patterns.');

/** One grant or a list of grants (the union of what they allow). Always a list after parsing. */
export const scopeSchema = z
  .preprocess((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : v), z.array(scopeGrantSchema).min(1))
  .describe('What a credential may see: one grant or a list of grants; anything any grant allows is visible.');

export type ScopeConfig = z.output<typeof scopeSchema>;

export const apiKeyEntrySchema = z
  .object({
    id: z.string().regex(API_KEY_ID, 'lower-case letters, digits and dashes (the <id> in sy_<id>_<secret>)').describe('Key id, public; appears in audit records.'),
    hash: z
      .string()
      .regex(API_KEY_HASH, 'a hash printed by `switchyard keys create` (scrypt$...)')
      .describe('scrypt hash of the key; the key itself is never stored.'),
    scopes: scopeSchema,
    revoked: z.boolean().default(false).describe('A revoked key is refused and its live subscriptions end.'),
    expiresAt: z.string().datetime({ offset: true }).optional().describe('ISO-8601 instant after which the key is refused.'),
    description: z.string().max(200).optional().describe('Free text for humans (owner, purpose).'),
  })
  .strict();

export type ApiKeyEntry = z.output<typeof apiKeyEntrySchema>;
export type ApiKeyEntryInput = z.input<typeof apiKeyEntrySchema>;

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const jwtConfigSchema = z
  .object({
    issuer: z.string().min(1).describe('Required `iss` claim (exact match).'),
    audience: z
      .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1)).min(1))
      .describe('Accepted `aud` value(s); the token must name at least one.'),
    jwksUrl: z
      .string()
      .url()
      .refine((u) => {
        try {
          const url = new URL(u);
          return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
        } catch {
          return false;
        }
      }, 'an https URL (http only for localhost)')
      .optional()
      .describe('JWKS endpoint of the OIDC provider; keys are cached and refetched on an unknown `kid`.'),
    publicKey: z
      .union([z.string().min(1), secretRefSchema])
      .optional()
      .describe('A static verification key instead of a JWKS: SPKI PEM or a public JWK as JSON, inline or as { env: NAME }.'),
    algorithms: z
      .array(z.enum(ASYMMETRIC_ALGORITHMS))
      .min(1)
      .optional()
      .describe(`Accepted \`alg\` values (asymmetric only; "none" and HMAC are never accepted). Default: ${DEFAULT_JWT_ALGORITHMS.join(', ')}.`),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30).describe('Allowed clock skew for exp / nbf / iat.'),
    maxTokenAgeSeconds: z.number().int().min(1).optional().describe('When set, tokens whose `iat` is older are refused.'),
    scopesClaim: z
      .string()
      .min(1)
      .default('switchyard_scopes')
      .describe('Claim holding the grants: space-separated "backend:project-pattern" entries ("backend" alone = all its projects), or grant objects / JSON.'),
    defaultScopes: scopeSchema.optional().describe('Grants for tokens without the scopes claim; absent = such tokens are refused.'),
    subjectClaim: z.string().min(1).default('sub').describe('Claim naming the principal; the identity id is `jwt:<value>`.'),
    jwksCooldownSeconds: z.number().min(0).max(3600).default(30).describe('Minimum time between two JWKS refetches triggered by unknown `kid`s.'),
    jwksCacheMaxAgeSeconds: z.number().min(1).max(86_400).default(600).describe('How long fetched keys are used before a refetch.'),
    jwksTimeoutMs: z.number().int().min(100).max(60_000).default(5000).describe('Timeout of one JWKS fetch.'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.jwksUrl === undefined) === (v.publicKey === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jwksUrl'], message: 'exactly one of `jwksUrl` or `publicKey`' });
    }
  });

export type JwtConfig = z.output<typeof jwtConfigSchema>;
export type JwtConfigInput = z.input<typeof jwtConfigSchema>;

export const authConfigSchema = z
  .object({
    mode: z
      .enum(['required', 'open'])
      .default('required')
      .describe('`required` (default): every request needs a valid API key or JWT. `open`: explicit opt-out, anonymous callers see everything (demo/dev only; logged loudly at start-up).'),
    apiKeys: z.array(apiKeyEntrySchema).default([]).describe('API keys, stored only as hashes.'),
    anonymousActions: actionGrantsSchema
      .default([])
      .describe('`mode: open` only: the actions anonymous callers may take on every backend (ACTIONS.md). Default none; demo mode allows all on its simulators.'),
    jwt: jwtConfigSchema.optional().describe('JWT bearer tokens from an OIDC provider.'),
    failureLimit: z
      .object({
        maxFailures: z.number().int().min(1).max(1_000_000).default(20).describe('Failed authentications one remote address (an IPv6 /64) may make per window before it gets 429 / WebSocket 4429.'),
        windowSeconds: z.number().int().min(1).max(86_400).default(60).describe('The window, counted from the address\'s first failure; its end is the Retry-After.'),
      })
      .strict()
      .default({})
      .describe('Per-address limit on failed authentications (each well-formed bogus API key costs one scrypt).'),
    keyVerification: z
      .object({
        maxConcurrent: z.number().int().min(1).max(64).default(1).describe('scrypt computations at a time: each takes a CPU core and a libuv threadpool thread (shared with file writes) for ~50 ms; verified keys are cached, so only first uses and bogus keys need one.'),
        maxQueued: z.number().int().min(0).max(100_000).default(32).describe('Verifications waiting for a slot; past it a request gets 503 (WebSocket 4429) with Retry-After: 1.'),
        failedKeyCacheSize: z.number().int().min(1).max(1_000_000).default(10_000).describe('Recently failed API keys remembered so a repeat costs no scrypt.'),
      })
      .strict()
      .default({})
      .describe('Bounds on the cost of API key verification.'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.mode !== 'open' && v.anonymousActions.length > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['anonymousActions'], message: `an empty list unless \`mode: open\` (received ${JSON.stringify(v.anonymousActions)} with mode ${v.mode}): grant actions to keys with scopes[].actions` });
    }
    const seen = new Set<string>();
    v.apiKeys.forEach((k, i) => {
      if (seen.has(k.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['apiKeys', i, 'id'], message: `a unique id ("${k.id}" is used twice)` });
      seen.add(k.id);
    });
  })
  .describe('Authentication and authorization.');

export type AuthConfig = z.output<typeof authConfigSchema>;
export type AuthConfigInput = z.input<typeof authConfigSchema>;

/** Scopes naming backends that are not configured: typos that would silently grant nothing. */
export function unknownScopeBackends(auth: AuthConfig, backendNames: readonly string[]): string[] {
  const known = new Set(backendNames);
  const issues: string[] = [];
  const check = (grants: ScopeConfig, where: string): void => {
    grants.forEach((g, gi) => g.backends.forEach((b) => {
      if (b !== '*' && !known.has(b)) issues.push(`${where}[${gi}].backends: unknown backend "${b}"`);
    }));
  };
  auth.apiKeys.forEach((k, i) => check(k.scopes, `auth.apiKeys[${i}].scopes`));
  if (auth.jwt?.defaultScopes) check(auth.jwt.defaultScopes, 'auth.jwt.defaultScopes');
  return issues;
}

/** Start-up lines describing the auth posture; `open` mode is shouted. */
export function describeAuthPosture(auth: AuthConfig): { level: 'warn' | 'info'; lines: string[] } {
  if (auth.mode === 'open') {
    return {
      level: 'warn',
      lines: [
        '!!! AUTHENTICATION IS OFF (auth.mode: open) !!!',
        '!!! Anyone who can reach this port can read every configured CI backend. Use only for demos and local development. !!!',
      ],
    };
  }
  const parts = [`${auth.apiKeys.filter((k) => !k.revoked).length} active API key(s)`];
  if (auth.jwt) parts.push(`JWT from ${auth.jwt.issuer}`);
  const lines = [`auth: required (${parts.join(', ')})`];
  if (auth.apiKeys.every((k) => k.revoked) && !auth.jwt) lines.push('auth: no credential can succeed: create a key with `switchyard keys create <id>`');
  return { level: lines.length > 1 ? 'warn' : 'info', lines };
}
