import { randomBytes, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real OpenID provider (panva's oidc-provider) on 127.0.0.1 inside the test
 * process. `getIdToken` runs the authorization code flow with PKCE over HTTP and
 * completes the login interaction in code, so tests get ID tokens signed with RS256
 * exactly as a browser sign-in would, without a browser.
 */

export interface TestUser {
  sub: string;
  /** Claims the provider releases for the user, e.g. name, email, realm_access, hop_units. */
  claims: Record<string, unknown>;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  /** Signs in `user` through the code flow and returns the ID token; `ttlSeconds` sets its lifetime (default 600). */
  getIdToken(user: TestUser, options?: { ttlSeconds?: number; nonce?: string }): Promise<string>;
  /** kid of the key that signs new tokens. */
  currentKid(): string;
  /** Private JWK of the current signing key, for tests that forge tokens with the provider's real key. */
  currentPrivateKey(): JWK;
  /** Secret of the client `clientId`, for a gateway's OIDC_CLIENT_SECRET. */
  clientSecret: string;
  /** Registers another redirect URI of the client, e.g. a test gateway's callback. */
  addRedirectUri(uri: string): void;
  /** Makes `user` known to the provider, so an authorization request with `login_hint=<sub>` signs them in. */
  addAccount(user: TestUser): void;
  /**
   * Follows the provider's redirects from `url` (an authorization request) with
   * the provider's cookies, signing in the `login_hint` account, and returns the
   * first redirect whose address starts with `redirectPrefix`.
   */
  authorize(url: string, redirectPrefix: string): Promise<URL>;
  /** Adds a new RS256 key that signs from now on; the old key stays published in the JWKS. */
  rotateKeys(): Promise<string>;
  close(): Promise<void>;
}

export const testUserAn: TestUser = {
  sub: '2f6c1e0a-6a43-4a55-9d0e-0c6b1d2e3f40',
  claims: {
    name: 'Nguyễn Văn An',
    given_name: 'An',
    family_name: 'Nguyễn Văn',
    preferred_username: 'an.nv',
    email: 'An.NV@sonoivu.example.gov.vn',
    email_verified: true,
    realm_access: { roles: ['hop-organiser', 'offline_access'] },
    resource_access: { hop: { roles: ['hop-admin'] } },
    groups: ['/Sở Nội vụ/Phòng Tổ chức'],
    hop_units: ['SNV', 'SNV-PTC'],
  },
};

const redirectUri = 'http://127.0.0.1/callback';

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

/** A minimal cookie jar: oidc-provider's cookies are keyed by name and all apply to the issuer's origin. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const separator = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, separator).trim(), pair!.slice(separator + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Starts the provider; stop it with `close()`. */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  const clientId = 'hop';
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map<string, TestUser>();
  const keys: JWK[] = [await generateSigningKey()];
  let idTokenTtlSeconds = 600;
  const redirectUris = [redirectUri];

  let handle: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server: Server = createServer((request, response) => {
    if (handle) handle(request, response);
    else response.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function buildProvider(): Provider {
    const configuration: Configuration = {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [...redirectUris],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'RS256',
        },
      ],
      // The first key signs (oidc-provider selects the first matching key); all keys are published.
      jwks: { keys: [...keys].reverse() },
      scopes: ['openid', 'profile', 'email', 'hop'],
      claims: {
        openid: ['sub'],
        profile: ['name', 'given_name', 'family_name', 'preferred_username'],
        email: ['email', 'email_verified'],
        hop: ['realm_access', 'resource_access', 'groups', 'hop_units'],
      },
      // Put the scope claims into the ID token as Keycloak does, not only into userinfo.
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      // Every test client is first party: grant the requested scopes without a consent screen.
      loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
        const oidc = ctx.oidc;
        const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client!.clientId);
        if (grantId) return oidc.provider.Grant.find(grantId);
        const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
        grant.addOIDCScope('openid profile email hop');
        await grant.save();
        return grant;
      },
      findAccount: (_ctx, sub) => {
        const user = accounts.get(sub);
        if (!user) return undefined;
        return { accountId: sub, claims: () => ({ ...user.claims, sub }) };
      },
      ttl: { IdToken: () => idTokenTtlSeconds, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Grant: 3600, Session: 3600 },
      pkce: { required: () => true },
    };
    const provider = new Provider(issuer, configuration);
    const callback = provider.callback();

    handle = (request, response) => {
      const match = /^\/interaction\/([\w-]+)$/.exec(request.url ?? '');
      if (!match) {
        callback(request, response);
        return;
      }
      // The login interaction: sign in the account named by login_hint.
      void (async () => {
        try {
          const details = await provider.interactionDetails(request, response);
          const accountId = String(details.params.login_hint ?? '');
          if (!accounts.has(accountId)) throw new Error(`no test account ${accountId}`);
          await provider.interactionFinished(request, response, { login: { accountId } }, { mergeWithLastSubmission: false });
        } catch (error) {
          response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
        }
      })();
    };
    return provider;
  }

  buildProvider();

  // Follows the redirects by hand: /auth → /interaction/:uid → /auth/:uid → redirect URI?code=…
  async function authorize(url: string, redirectPrefix: string): Promise<URL> {
    const jar = new CookieJar();
    let location = url;
    for (let step = 0; step < 10; step += 1) {
      const response = await fetch(location, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.store(response);
      const next = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !next) {
        throw new Error(`authorization step ${location} returned ${response.status}: ${await response.text()}`);
      }
      await response.body?.cancel();
      const nextUrl = new URL(next, location);
      if (nextUrl.href.startsWith(redirectPrefix)) return nextUrl;
      location = nextUrl.toString();
    }
    throw new Error(`authorization code flow did not reach ${redirectPrefix}`);
  }

  async function getIdToken(user: TestUser, options: { ttlSeconds?: number; nonce?: string } = {}): Promise<string> {
    accounts.set(user.sub, user);
    idTokenTtlSeconds = options.ttlSeconds ?? 600;

    const verifier = randomBytes(32).toString('base64url');
    const authorization = new URL('/auth', issuer);
    authorization.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid profile email hop',
      login_hint: user.sub,
      nonce: options.nonce ?? randomBytes(12).toString('base64url'),
      state: randomBytes(12).toString('base64url'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();

    const redirected = await authorize(authorization.toString(), redirectUri);
    const error = redirected.searchParams.get('error');
    if (error) throw new Error(`authorization failed: ${error} ${redirected.searchParams.get('error_description') ?? ''}`);
    const code = redirected.searchParams.get('code');
    if (code === null) throw new Error(`authorization code flow reached ${redirected.href} without a code`);

    const tokenResponse = await fetch(new URL('/token', issuer), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    const body = (await tokenResponse.json()) as { id_token?: string; error?: string; error_description?: string };
    if (!tokenResponse.ok || !body.id_token) {
      throw new Error(`token request failed with ${tokenResponse.status}: ${body.error ?? ''} ${body.error_description ?? ''}`);
    }
    return body.id_token;
  }

  return {
    issuer,
    clientId,
    clientSecret,
    addRedirectUri: (uri) => {
      redirectUris.push(uri);
      // oidc-provider reads its clients once, so a new instance on the same server and issuer takes over.
      buildProvider();
    },
    addAccount: (user) => {
      accounts.set(user.sub, user);
    },
    authorize,
    getIdToken,
    currentKid: () => keys.at(-1)!.kid!,
    currentPrivateKey: () => ({ ...keys.at(-1)! }),
    rotateKeys: async () => {
      keys.push(await generateSigningKey());
      // oidc-provider reads its keys once, so a new instance on the same server and issuer takes over.
      buildProvider();
      return keys.at(-1)!.kid!;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
