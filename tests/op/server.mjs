#!/usr/bin/env node
// Test OpenID Provider for genauth's end-to-end tests.
//
// A real, certified OP (the `oidc-provider` npm package, version pinned in
// package.json) started on loopback by the tests themselves.
//
// Usage:   node tests/op/server.mjs <config.json>
//
// The server listens on 127.0.0.1 on an ephemeral port and, once ready, prints
// exactly ONE line to stdout:
//
//     {"issuer":"http://127.0.0.1:<port>"}
//
// Everything else (oidc-provider notices and warnings, a request log, provider
// errors) goes to stderr. The process exits when stdin reaches end-of-file (so a
// server orphaned by a dead test process dies too), on SIGTERM/SIGINT, or with
// status 1 when the configuration is invalid (message on stderr, no ready line).
//
// Config JSON (every key optional):
//
//   {
//     "clients": [ <oidc-provider client metadata>, ... ],
//         Static clients, exactly as oidc-provider takes them, e.g.
//         { "client_id": "app", "client_secret": "s3cret",
//           "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "none",
//           "redirect_uris": ["http://127.0.0.1:4000/callback"],
//           "post_logout_redirect_uris": ["http://127.0.0.1:4000/"],
//           "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
//           "response_types": ["code"],
//           "id_token_signed_response_alg": "RS256" | "PS256" | "ES256" | "EdDSA" }
//         Every client is validated at startup (bad metadata = exit 1 with the reason).
//         Note: oidc-provider has no separate introspection/revocation auth
//         metadata; those endpoints use `token_endpoint_auth_method`.
//     "resourceServers": { "<resource indicator>": <resource server info>, ... },
//         Merged over the default
//         { "urn:genauth:test-api": { "scope": "api:read api:write",
//             "audience": "urn:genauth:test-api", "accessTokenFormat": "jwt",
//             "accessTokenTTL": 3600, "jwt": { "sign": { "alg": "RS256" } } } }
//         Any other resource indicator is rejected with `invalid_target`.
//     "accounts": { "<sub>": { <claims> } },
//         Claims overriding the generated ones for that sub (any login is accepted;
//         the login becomes `sub`; generated claims: name, given_name, family_name,
//         preferred_username, email, email_verified).
//     "ttl": { "AccessToken": 3600, "AuthorizationCode": 60, "ClientCredentials": 600,
//              "IdToken": 3600, "RefreshToken": 1209600, "Interaction": 3600,
//              "Session": 1209600, "Grant": 1209600 },
//         Lifetimes in seconds (those shown are the defaults).
//     "useGrantedResource": false,
//         true: at the token endpoint, a code/refresh token granted for a single
//         resource yields an access token for it even without a `resource` param.
//         (package default false: an `openid` request then needs `resource` at
//         the token endpoint too, else the access token is an opaque userinfo one)
//     "conformIdTokenClaims": true,
//         package default true: with response_type=code the ID token carries only
//         sub/sid/auth_time/...; profile/email claims come from userinfo. false puts
//         the scope claims into the ID token as well.
//     "rotateRefreshToken": null,
//         null = package policy (rotate for public clients, or after 70% of the
//         lifetime); true/false = always/never rotate.
//     "pkceRequired": null,
//         null = package default (required for public clients only, S256 only);
//         true/false = required for every client / for none.
//     "clockTolerance": 15,
//     "dpop": false,
//         true: features.dPoP (RFC 9449): a token request with a DPoP proof gets a
//         DPoP-bound access token (token_type DPoP, JWT access tokens carry cnf.jkt).
//     "exitOnStdinEnd": true
//   }
//
// Signing keys are generated at startup (new ones per process) and published at
// the jwks_uri: RSA-2048 RS256 (first, the default for ID tokens and JWT access
// tokens), EC P-256 ES256, Ed25519 EdDSA, RSA-2048 PS256. kids look like
// `RS256-1-<random>`.
//
// Cookies: the OP's cookies are named _op_session, _op_interaction and
// _op_interaction_resume (plus .sig twins); cookies are per host, not per port,
// so an app on another 127.0.0.1 port sees them too and must use other names.
//
// Test-only admin routes (served outside the provider, same origin):
//   POST /__test/rotate-keys   [optional JSON body {"alg":"RS256"|"PS256"|"ES256"|"EdDSA"}]
//        Generates a new key for that alg (default RS256), puts it first so it
//        signs everything from now on, keeps all older keys published in the JWKS,
//        and answers {"kid":"<new kid>"}. oidc-provider reads its keys at
//        construction only, so a new Provider instance (same issuer, same config,
//        same cookie keys) replaces the old one behind the same HTTP server; all
//        state (sessions, grants, interactions, tokens, registered clients) lives in
//        one in-memory adapter shared by every instance, so it survives.
//   GET  /__test/keys          {"keys":[{"kid","alg","kty"},...]} in signing order.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

// stdout carries only the ready line: oidc-provider prints its NOTICEs with console.info.
console.log = console.info = console.debug = (...args) => console.error(...args);

function fail(message) {
  console.error(`[op] FATAL: ${message}`);
  process.exit(1);
}

const configPath = process.argv[2];
if (!configPath) fail('usage: node server.mjs <config.json>');

let config;
try {
  config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read config ${configPath}: ${err.message}`);
}
if (config === null || typeof config !== 'object' || Array.isArray(config)) {
  fail('config must be a JSON object');
}

const TEST_API = 'urn:genauth:test-api';
const resourceServers = {
  [TEST_API]: {
    scope: 'api:read api:write',
    audience: TEST_API,
    accessTokenFormat: 'jwt',
    accessTokenTTL: 3600,
    jwt: { sign: { alg: 'RS256' } },
  },
  ...(config.resourceServers ?? {}),
};

const ttlSeconds = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  ClientCredentials: 600,
  IdToken: 3600,
  RefreshToken: 14 * 24 * 3600,
  Interaction: 3600,
  Session: 14 * 24 * 3600,
  Grant: 14 * 24 * 3600,
  ...(config.ttl ?? {}),
};

const clockTolerance = config.clockTolerance ?? 15;

// ---------------------------------------------------------------------------
// Keys

let keyCounter = 0;

function generateKey(alg) {
  let pair;
  switch (alg) {
    case 'RS256':
    case 'PS256':
      pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'ES256':
      pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'EdDSA':
      pair = crypto.generateKeyPairSync('ed25519');
      break;
    default:
      throw new Error(`unsupported alg ${alg}`);
  }
  keyCounter += 1;
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return {
    ...jwk,
    kid: `${alg}-${keyCounter}-${crypto.randomBytes(6).toString('base64url')}`,
    use: 'sig',
    alg,
  };
}

// Signing order: for a given alg, oidc-provider uses the first matching key.
const signingKeys = ['RS256', 'ES256', 'EdDSA', 'PS256'].map(generateKey);

// ---------------------------------------------------------------------------
// Shared in-memory adapter (one store for every Provider instance, so that state
// survives the Provider swap done by key rotation). Implements the documented
// adapter interface; payloads are cloned like a real database would.

const store = new Map(); // key -> { value, expiresAt }
const grantMembers = new Map(); // grantId -> Set of store keys
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

function storeSet(key, value, expiresIn) {
  const expiresAt = typeof expiresIn === 'number'
    ? Date.now() + (expiresIn + clockTolerance) * 1000
    : undefined;
  store.set(key, { value, expiresAt });
}

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storeSet(key, structuredClone(payload), expiresIn);
    if (this.model === 'Session' && payload.uid) {
      storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (payload.userCode) {
      storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    const value = storeGet(this.key(id));
    return value === undefined ? undefined : structuredClone(value);
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const value = storeGet(this.key(id));
    if (value) value.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// ---------------------------------------------------------------------------
// Accounts: any login is accepted by the dev interactions and becomes `sub`.

function claimsFor(sub) {
  const local = sub.includes('@') ? sub.slice(0, sub.indexOf('@')) : sub;
  const given = local.charAt(0).toUpperCase() + local.slice(1);
  return {
    sub,
    name: `${given} Tester`,
    given_name: given,
    family_name: 'Tester',
    preferred_username: local,
    email: sub.includes('@') ? sub : `${sub}@example.test`,
    email_verified: true,
    ...(config.accounts?.[sub] ?? {}),
    // `sub` is never overridable
    ...{ sub },
  };
}

async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    // oidc-provider filters these by the granted scopes/claims
    async claims() {
      return claimsFor(sub);
    },
  };
}

// ---------------------------------------------------------------------------
// Provider configuration

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

const ttl = Object.fromEntries(
  Object.entries(ttlSeconds).map(([name, seconds]) => {
    if (name === 'AccessToken' || name === 'ClientCredentials') {
      return [name, (_ctx, token) => token.resourceServer?.accessTokenTTL ?? seconds];
    }
    return [name, () => seconds];
  }),
);

function buildConfiguration() {
  const configuration = {
    clients: structuredClone(config.clients ?? []),
    adapter: SharedMemoryAdapter,
    jwks: { keys: structuredClone(signingKeys) },
    // Cookie jars (and browsers) key cookies by host, not port: the OP and the
    // app under test both live on 127.0.0.1, so the OP's cookie names are
    // prefixed to never collide with the app's.
    cookies: {
      keys: cookieKeys,
      names: {
        session: '_op_session',
        interaction: '_op_interaction',
        resume: '_op_interaction_resume',
      },
    },
    clockTolerance,
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'offline_access'],
    findAccount,
    ttl,
    conformIdTokenClaims: config.conformIdTokenClaims ?? true,
    // The apps under test listen on loopback, which the default fetch's SSRF guard
    // (its dispatcher) refuses: back-channel logout calls them without it.
    fetch: (url, { dispatcher: _ssrfGuard, ...options }) => globalThis.fetch(url, options),
    // Same as the package default, made explicit: refresh tokens for clients
    // allowed the refresh_token grant when offline_access was granted (which
    // needs prompt=consent in the authorization request).
    async issueRefreshToken(_ctx, client, source) {
      return client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access');
    },
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // Logout tokens POSTed to the clients that register a backchannel_logout_uri.
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      dPoP: { enabled: config.dpop === true },
      registration: { enabled: true, initialAccessToken: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => config.useGrantedResource === true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          const info = resourceServers[resourceIndicator];
          if (!info) throw new errors.InvalidTarget();
          return structuredClone(info);
        },
      },
    },
  };

  if (typeof config.rotateRefreshToken === 'boolean') {
    const rotate = config.rotateRefreshToken;
    configuration.rotateRefreshToken = () => rotate;
  }
  if (typeof config.pkceRequired === 'boolean') {
    const required = config.pkceRequired;
    configuration.pkce = { required: () => required };
  }
  return configuration;
}

const LOGGED_EVENTS = [
  'server_error', 'authorization.error', 'grant.error', 'introspection.error',
  'revocation.error', 'end_session.error', 'end_session_confirm.error',
  'registration_create.error', 'registration_read.error', 'userinfo.error',
  'jwks.error', 'discovery.error', 'backchannel.error',
];

async function createProvider(issuer) {
  const provider = new Provider(issuer, buildConfiguration());
  for (const event of LOGGED_EVENTS) {
    provider.on(event, (_ctx, err) => {
      const detail = err?.error_description ? ` (${err.error_description})` : '';
      const cause = err?.cause ? ` cause: ${err.cause.message ?? err.cause}` : '';
      console.error(`[op] ${event}: ${err?.error ?? err?.message ?? err}${detail}${cause}`);
      if (event === 'server_error' && err?.stack) console.error(err.stack);
    });
  }
  // Fail fast on invalid static client metadata (validated lazily otherwise).
  for (const { client_id: clientId } of config.clients ?? []) {
    try {
      await provider.Client.find(clientId);
    } catch (err) {
      throw new Error(`invalid client ${clientId}: ${err.error_description ?? err.message}`, { cause: err });
    }
  }
  return { provider, handler: provider.callback() };
}

// ---------------------------------------------------------------------------
// HTTP server

let current; // { provider, handler }

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function handleAdmin(req, res, issuer) {
  const { pathname } = new URL(req.url, issuer);
  if (req.method === 'POST' && pathname === '/__test/rotate-keys') {
    const raw = await readBody(req);
    let alg = 'RS256';
    if (raw.trim()) {
      try {
        alg = JSON.parse(raw).alg ?? 'RS256';
      } catch {
        return sendJson(res, 400, { error: 'body must be JSON' });
      }
    }
    if (!['RS256', 'PS256', 'ES256', 'EdDSA'].includes(alg)) {
      return sendJson(res, 400, { error: `unsupported alg ${alg}` });
    }
    const key = generateKey(alg);
    signingKeys.unshift(key);
    try {
      current = await createProvider(issuer);
    } catch (err) {
      signingKeys.shift();
      return sendJson(res, 500, { error: err.message });
    }
    console.error(`[op] rotated keys: ${alg} now signs with kid ${key.kid}`);
    return sendJson(res, 200, { kid: key.kid });
  }
  if (req.method === 'GET' && pathname === '/__test/keys') {
    return sendJson(res, 200, {
      keys: signingKeys.map(({ kid, alg, kty }) => ({ kid, alg, kty })),
    });
  }
  return sendJson(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    const location = res.getHeader('location');
    console.error(`[op] ${req.method} ${req.url} -> ${res.statusCode}${location ? ` ${location}` : ''} (${Date.now() - started}ms)`);
  });
  if (req.url.startsWith('/__test/')) {
    handleAdmin(req, res, issuer).catch((err) => {
      console.error(`[op] admin error: ${err.stack ?? err}`);
      if (!res.headersSent) sendJson(res, 500, { error: String(err.message ?? err) });
    });
    return;
  }
  current.handler(req, res);
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

try {
  current = await createProvider(issuer);
} catch (err) {
  fail(err.message);
}

function shutdown() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (config.exitOnStdinEnd !== false) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
