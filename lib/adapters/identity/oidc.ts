import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { HopError } from '../../errors.ts';
import { log } from '../../log.ts';
import type { SystemRole } from '../db/schema.ts';
import { parseRoleMap, systemRoles, type ClaimMappingOptions } from './claims.ts';

/**
 * Verifies OpenID Connect ID tokens and JWT access tokens from the province's
 * identity provider (Keycloak or another OpenID provider) with jose: discovery,
 * the remote JWKS with key rotation, signature, algorithm, iss, aud, exp and nbf.
 */

export interface OidcVerifierOptions {
  /** The provider's issuer exactly as in its tokens, e.g. `https://sso.example.gov.vn/realms/hop`. */
  issuer: string;
  /** Accepted `aud` values: hop's client id for ID tokens, or the audience a Keycloak audience mapper adds to access tokens. */
  audience: string | string[];
  /** JWKS URL; when set, discovery is skipped. */
  jwksUri?: string;
  /** Allowed clock difference for exp and nbf, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Accepted JWS algorithms. Default: the asymmetric algorithms below. `none` and HS* are rejected at creation. */
  allowedAlgorithms?: readonly string[];
  /** Timeout of the discovery and JWKS requests, in milliseconds. Default 5000. */
  requestTimeoutMs?: number;
  /** How long a discovery document is reused before it is fetched again, in seconds. Default 3600. */
  discoveryCacheSeconds?: number;
  /** How long a fetched JWKS is reused, in seconds (jose `cacheMaxAge`). Default 600. */
  jwksCacheSeconds?: number;
  /** Minimum time between two JWKS fetches caused by an unknown kid, in seconds (jose `cooldownDuration`). Default 30. */
  jwksCooldownSeconds?: number;
  /** Accept an `http:` issuer or JWKS URL on a host other than loopback. Default false. */
  allowInsecureHttp?: boolean;
  /** Clock for exp and nbf checks; tests pass a fixed time. Default: the system clock. */
  now?: () => Date;
}

export interface VerifyOptions {
  /** The nonce sent in the authorization request; a sign-in callback must pass it so a replayed ID token is rejected. */
  nonce?: string;
}

/** Claims of a verified token: `iss`, `sub`, `aud`, `exp` and `iat` are present and checked. */
export type VerifiedClaims = JWTPayload & {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
};

export interface OidcVerifier {
  readonly issuer: string;
  /**
   * Verifies a compact JWT and returns its claims. Every failure is a HopError:
   * IDENTITY_PROVIDER_UNAVAILABLE (503, retryable) when discovery or the JWKS
   * cannot be fetched, otherwise one of the 401 TOKEN_* codes.
   */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedClaims>;
  /** Fetches (or returns the cached) discovery document; throws IDENTITY_PROVIDER_UNAVAILABLE. */
  discover(): Promise<ProviderMetadata>;
}

export const defaultAllowedAlgorithms = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;

/** Maximum token length, in characters. Keycloak tokens with many roles are a few KiB (an estimate, not a measured limit). */
const maxTokenLength = 16_384;

const providerMetadataSchema = z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: z.url(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
});

export type ProviderMetadata = z.infer<typeof providerMetadataSchema>;

const logger = log.child({ module: 'oidc' });

/** Raised inside the JWKS key resolver when the key set cannot be fetched, so jose's own errors stay apart. */
class KeySetUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The JWKS could not be fetched', { cause });
    this.name = 'KeySetUnavailableError';
  }
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

function checkProviderUrl(name: string, text: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new Error(`OIDC ${name} "${text}" is not a URL`, { cause });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopback(url))) return url;
  throw new Error(`OIDC ${name} "${text}" must use https (http is accepted only on loopback or with allowInsecureHttp)`);
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new Error('OIDC allowedAlgorithms is empty');
  for (const algorithm of algorithms) {
    if (algorithm === 'none' || algorithm.startsWith('HS')) {
      throw new Error(`OIDC algorithm ${algorithm} is not allowed: hop verifies tokens with the provider's public keys only`);
    }
  }
  return [...algorithms];
}

function unavailable(reason: string, cause: unknown, details: Record<string, unknown> = {}): HopError {
  return new HopError('IDENTITY_PROVIDER_UNAVAILABLE', { cause, details: { reason, ...details } });
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

async function fetchDiscovery(issuer: string, timeoutMs: number): Promise<ProviderMetadata> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw unavailable(timedOut ? 'discovery_timeout' : 'discovery_unreachable', error, { url });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw unavailable('discovery_status', undefined, { url, status: response.status });
  }

  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw unavailable('discovery_invalid', error, { url });
  }
  const parsed = providerMetadataSchema.safeParse(body);
  if (!parsed.success) throw unavailable('discovery_invalid', parsed.error, { url });

  // OpenID Connect Discovery 1.0, section 4.3: the document's issuer must equal the configured one.
  if (parsed.data.issuer !== issuer) {
    throw unavailable('discovery_issuer_mismatch', undefined, { url, expected: issuer, actual: parsed.data.issuer });
  }
  return parsed.data;
}

interface KeySource {
  metadata: ProviderMetadata;
  jwksUri: string;
  keySet: ReturnType<typeof createRemoteJWKSet>;
  fetchedAt: number;
}

/** Maps a jose verification error to the hop error a caller sees. */
function classify(error: unknown): HopError {
  if (error instanceof HopError) return error;
  if (error instanceof KeySetUnavailableError) {
    const timedOut = error.cause instanceof errors.JWKSTimeout;
    return unavailable(timedOut ? 'jwks_timeout' : 'jwks_unreachable', error.cause);
  }
  if (error instanceof errors.JWTExpired) return new HopError('TOKEN_EXPIRED', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return new HopError('TOKEN_INVALID', { cause: error, details: { reason: 'claims', claim: error.claim, issue: 'missing' } });
    }
    if (error.claim === 'iss') return new HopError('TOKEN_ISSUER_INVALID', { cause: error });
    if (error.claim === 'aud') return new HopError('TOKEN_AUDIENCE_INVALID', { cause: error });
    if (error.claim === 'nbf') return new HopError('TOKEN_NOT_YET_VALID', { cause: error });
    return new HopError('TOKEN_INVALID', { cause: error, details: { reason: 'claims', claim: error.claim, issue: error.reason } });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new HopError('TOKEN_SIGNATURE_INVALID', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new HopError('TOKEN_KEY_UNKNOWN', { cause: error, details: { reason: 'no_matching_key' } });
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new HopError('TOKEN_KEY_UNKNOWN', { cause: error, details: { reason: 'ambiguous_key' } });
  if (error instanceof errors.JOSEAlgNotAllowed) return new HopError('TOKEN_ALGORITHM_NOT_ALLOWED', { cause: error });
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new HopError('TOKEN_INVALID', { cause: error, details: { reason: 'malformed' } });
  }
  // Fail closed: an unexpected error (a jose change, a bug here) rejects the token with 401, and is logged.
  logger.error({ err: error }, 'unexpected error while verifying an OIDC token');
  return new HopError('TOKEN_INVALID', { cause: error, details: { reason: 'unexpected' } });
}

/** Creates a verifier for one issuer. Throws a plain Error for a configuration mistake (bad URL, `none` or HS* allowed). */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  checkProviderUrl('issuer', options.issuer, allowInsecureHttp);
  if (options.jwksUri !== undefined) checkProviderUrl('jwksUri', options.jwksUri, allowInsecureHttp);
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((value) => value === '')) throw new Error('OIDC audience is empty');

  const issuer = options.issuer;
  const algorithms = checkAlgorithms(options.allowedAlgorithms ?? defaultAllowedAlgorithms);
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  const discoveryCacheMs = (options.discoveryCacheSeconds ?? 3_600) * 1_000;
  const jwksOptions = {
    timeoutDuration: timeoutMs,
    cacheMaxAge: (options.jwksCacheSeconds ?? 600) * 1_000,
    cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1_000,
  };

  let current: KeySource | undefined;
  let pending: Promise<KeySource> | undefined;

  function keySourceFor(metadata: ProviderMetadata, jwksUri: string): KeySource {
    // Keep the remote JWKS (and its cached keys) when the URL did not change.
    if (current && current.jwksUri === jwksUri) return { ...current, metadata, fetchedAt: Date.now() };
    checkProviderUrl('jwks_uri', jwksUri, allowInsecureHttp);
    return { metadata, jwksUri, keySet: createRemoteJWKSet(new URL(jwksUri), jwksOptions), fetchedAt: Date.now() };
  }

  async function loadKeySource(): Promise<KeySource> {
    if (options.jwksUri !== undefined) {
      current ??= keySourceFor({ issuer, jwks_uri: options.jwksUri }, options.jwksUri);
      return current;
    }
    if (current && Date.now() - current.fetchedAt < discoveryCacheMs) return current;

    pending ??= fetchDiscovery(issuer, timeoutMs)
      .then((metadata) => {
        let source: KeySource;
        try {
          source = keySourceFor(metadata, metadata.jwks_uri);
        } catch (error) {
          throw unavailable('discovery_invalid', error, { jwksUri: metadata.jwks_uri });
        }
        current = source;
        return source;
      })
      .finally(() => {
        pending = undefined;
      });

    try {
      return await pending;
    } catch (error) {
      const hopError = classify(error);
      if (current) {
        // A stale discovery document is better than none: issuers rarely move their JWKS.
        logger.warn({ err: error, issuer, details: hopError.details }, 'OIDC discovery refresh failed; using the cached document');
        return current;
      }
      logger.warn({ issuer, details: hopError.details, error: errorText(error) }, 'OIDC discovery failed');
      throw hopError;
    }
  }

  async function verify(token: string, verifyOptions: VerifyOptions = {}): Promise<VerifiedClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > maxTokenLength || token.split('.').length !== 3) {
      throw new HopError('TOKEN_INVALID', { details: { reason: 'malformed' } });
    }

    // Check the algorithm before any network request, so `none` and HS* never reach the key set.
    let algorithm: unknown;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw new HopError('TOKEN_INVALID', { cause: error, details: { reason: 'malformed' } });
    }
    if (typeof algorithm !== 'string' || !algorithms.includes(algorithm)) {
      throw new HopError('TOKEN_ALGORITHM_NOT_ALLOWED', { details: { alg: typeof algorithm === 'string' ? algorithm : null } });
    }

    const source = await loadKeySource();
    const keySet = source.keySet;
    const resolveKey: typeof keySet = (async (header, jws) => {
      try {
        return await keySet(header, jws);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) {
          throw error;
        }
        throw new KeySetUnavailableError(error);
      }
    }) as typeof keySet;

    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, resolveKey, {
        issuer,
        audience,
        algorithms,
        clockTolerance,
        requiredClaims: ['sub', 'exp', 'iat'],
        ...(options.now ? { currentDate: options.now() } : {}),
      });
      payload = result.payload;
    } catch (error) {
      const hopError = classify(error);
      if (hopError.code === 'IDENTITY_PROVIDER_UNAVAILABLE') {
        logger.warn({ issuer, jwksUri: source.jwksUri, details: hopError.details, error: errorText(error) }, 'OIDC JWKS fetch failed');
      }
      throw hopError;
    }

    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.iat !== 'number') {
      throw new HopError('TOKEN_INVALID', { details: { reason: 'claims', claim: 'sub', issue: 'invalid' } });
    }
    if (verifyOptions.nonce !== undefined && payload.nonce !== verifyOptions.nonce) {
      throw new HopError('TOKEN_INVALID', { details: { reason: 'claims', claim: 'nonce', issue: 'mismatch' } });
    }
    return payload as VerifiedClaims;
  }

  return {
    issuer,
    verify,
    discover: async () => (await loadKeySource()).metadata,
  };
}

/** Settings read from the environment; see docs/oidc.md. */
export interface OidcSettings {
  verifier: OidcVerifierOptions;
  claims: ClaimMappingOptions;
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function seconds(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds ≥ 0, got "${text}"`);
  return value;
}

/**
 * Reads the OIDC_* variables. Returns undefined when OIDC_ISSUER is not set
 * (OIDC sign-in off) and throws a plain Error naming the variable for a bad value.
 */
export function oidcSettingsFromEnv(env: Record<string, string | undefined> = process.env): OidcSettings | undefined {
  const issuer = env.OIDC_ISSUER?.trim();
  if (!issuer) return undefined;

  const audience = list(env.OIDC_AUDIENCE ?? env.OIDC_CLIENT_ID);
  if (audience.length === 0) throw new Error('OIDC_AUDIENCE or OIDC_CLIENT_ID must be set when OIDC_ISSUER is set');

  const defaultRoleText = env.OIDC_DEFAULT_ROLE?.trim() || 'member';
  let defaultRole: SystemRole | null;
  if (defaultRoleText === 'none') {
    defaultRole = null;
  } else if ((systemRoles as readonly string[]).includes(defaultRoleText)) {
    defaultRole = defaultRoleText as SystemRole;
  } else {
    throw new Error(`OIDC_DEFAULT_ROLE must be one of ${systemRoles.join(', ')} or none, got "${defaultRoleText}"`);
  }

  const algorithms = list(env.OIDC_ALGORITHMS);
  const verifier: OidcVerifierOptions = { issuer, audience };
  if (env.OIDC_JWKS_URI?.trim()) verifier.jwksUri = env.OIDC_JWKS_URI.trim();
  if (algorithms.length > 0) verifier.allowedAlgorithms = checkAlgorithms(algorithms);
  const tolerance = seconds('OIDC_CLOCK_TOLERANCE_SECONDS', env.OIDC_CLOCK_TOLERANCE_SECONDS);
  if (tolerance !== undefined) verifier.clockToleranceSeconds = tolerance;

  const claims: ClaimMappingOptions = {
    rolesClaim: env.OIDC_ROLES_CLAIM?.trim() || 'realm_access.roles',
    roleMap: parseRoleMap(env.OIDC_ROLE_MAP ?? ''),
    defaultRole,
  };
  if (env.OIDC_UNITS_CLAIM?.trim()) claims.unitsClaim = env.OIDC_UNITS_CLAIM.trim();
  return { verifier, claims };
}
