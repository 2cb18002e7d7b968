// The local sign-in mode's authorization server: npm `oidc-provider` (OpenID certified), configured — not
// written — here, on loopback only. `python -m app.local --auth local` (`make serve-auth`) and the tests start
// it; see app/local/auth.py.
//
//   node auth-server.mjs --resource http://127.0.0.1:3000/mcp [--port 0] [--host 127.0.0.1]
//                        [--read-scope read] [--write-scope write] [--machine-client-id lambda-ops-machine]
//
// What it offers (each a feature of oidc-provider, settings read from node_modules/oidc-provider/lib/helpers/
// defaults.js): authorization code with PKCE (S256 only, required for every client), dynamic client
// registration (RFC 7591, open: no initial access token), resource indicators (RFC 8707) issuing JWT access
// tokens (RS256, `aud` = the MCP resource URL, `scope` = read/write), client credentials for one
// pre-registered confidential client limited to the read scope (like the Cognito stack's machine client),
// refresh tokens with offline_access, client ID metadata documents, and its development login/consent pages
// (any user name and password).
// CORS: discovery and JWKS are open; registration and token answer MCP Inspector's web UI on localhost:6274.
//
// When it listens it prints one JSON line: {"issuer", "jwks_uri", "resource", "machine_client_id",
// "machine_client_secret", ...}. The machine secret is random per start (or AUTH_MACHINE_CLIENT_SECRET).
// Keys are generated per start and kept in memory: nothing is written to disk. SIGTERM/SIGINT stop it.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: options } = parseArgs({
  options: {
    resource: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'read-scope': { type: 'string', default: 'read' },
    'write-scope': { type: 'string', default: 'write' },
    'machine-client-id': { type: 'string', default: 'lambda-ops-machine' },
    'token-ttl': { type: 'string', default: '600' },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
});

function fail(message) {
  process.stderr.write(`auth-server: ${message}\n`);
  process.exit(2);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
if (!LOOPBACK.has(options.host)) fail(`--host ${options.host}: loopback only`);
let resourceUrl;
try {
  resourceUrl = new URL(options.resource ?? '');
} catch {
  fail('--resource URL is required (the MCP server URL, e.g. http://127.0.0.1:3000/mcp)');
}
if (!LOOPBACK.has(resourceUrl.hostname) || resourceUrl.search || resourceUrl.hash) {
  fail(`--resource ${options.resource}: a loopback URL without query or fragment`);
}
const RESOURCE = options.resource.replace(/\/+$/, ''); // the canonical form: no trailing slash
const READ = options['read-scope'];
const WRITE = options['write-scope'];
const MACHINE_ID = options['machine-client-id'];
const MACHINE_SECRET = process.env.AUTH_MACHINE_CLIENT_SECRET || randomBytes(32).toString('base64url');
const TOKEN_TTL = Number.parseInt(options['token-ttl'], 10);
// MCP Inspector's web UI (its default port) may call registration and token from the browser.
const BROWSER_ORIGINS = new Set(['http://localhost:6274', 'http://127.0.0.1:6274']);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const configuration = {
  jwks: { keys: [signingKey] },
  clients: [
    {
      client_id: MACHINE_ID,
      client_secret: MACHINE_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  responseTypes: ['code'],
  // Every scope a client may register or request. READ and WRITE are the resource server's (below): access
  // tokens for it carry only those. Listed here too because clients (the MCP SDK's among them) register
  // with `scope`, and oidc-provider refuses a registration naming a scope it does not list.
  scopes: ['openid', 'offline_access', READ, WRITE],
  // A registered `scope` limits what a client may later request (oidc-provider enforces it). MCP clients
  // register with the scope of their first challenge (read) and step up to write on a 403: every client may
  // ask for both resource scopes, and the person decides on the consent page. The documented hook for
  // adjusting registered metadata (it runs after oidc-provider's own checks).
  extraClientMetadata: {
    properties: ['scope'],
    validator: (_ctx, key, value, metadata) => {
      if (key === 'scope' && typeof value === 'string') {
        metadata.scope = [...new Set([...value.split(' '), READ, WRITE])].join(' ');
      }
    },
  },
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
  features: {
    devInteractions: { enabled: true }, // its own login and consent pages: any login, any password
    registration: { enabled: true }, // open dynamic registration (RFC 7591)
    // Client ID metadata documents (an https client_id naming its own metadata; VS Code and Claude use them):
    // an experimental feature of oidc-provider, enabled by acknowledging the draft it implements.
    clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A client that sends no `resource` (some do not yet) still gets a token for the MCP server.
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator, client) => {
        if (indicator.replace(/\/+$/, '') !== RESOURCE) {
          throw new errors.InvalidTarget(`this server issues tokens for ${RESOURCE} only`);
        }
        return {
          scope: client.clientId === MACHINE_ID ? READ : `${READ} ${WRITE}`,
          audience: RESOURCE,
          accessTokenTTL: TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Public clients (PKCE) from a browser: only from their own redirect URIs' origins, as the default does.
  clientBasedCORS: (_ctx, origin, client) =>
    client.clientAuthMethod === 'none' && client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  ttl: {
    AccessToken: TOKEN_TTL,
    ClientCredentials: TOKEN_TTL,
    AuthorizationCode: 60,
    IdToken: TOKEN_TTL,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
    RefreshToken: 3600,
  },
  renderError: (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

// Listen first (port 0 picks one), then build the provider for the issuer URL that port gives.
const server = createServer();
server.listen(Number.parseInt(options.port, 10), options.host === 'localhost' ? '127.0.0.1' : options.host);
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', (error) => reject(fail(`cannot listen: ${error.message}`)));
});
const { port } = server.address();
const issuer = `http://${options.host}:${port}`;
const provider = new Provider(issuer, configuration);

// Dynamic registration has no CORS of its own in oidc-provider; MCP Inspector's web UI registers from the
// browser. Answer it (and only it) — a Koa middleware in front of the provider's routes.
provider.use(async (ctx, next) => {
  const origin = ctx.get('Origin');
  if (ctx.path === '/reg' && BROWSER_ORIGINS.has(origin)) {
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.vary('Origin');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'POST');
      ctx.set('Access-Control-Allow-Headers', ctx.get('Access-Control-Request-Headers') || 'content-type');
      ctx.status = 204;
      return;
    }
  }
  await next();
});

// OAuth 2.1 §3.2.2.1: a request without `scope` is processed with a pre-defined default or refused;
// oidc-provider refuses it (access_denied, "no scope was granted"). The default here is the read scope.
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && ctx.method === 'GET' && !ctx.query.scope) {
    ctx.query = { ...ctx.query, scope: READ };
  }
  await next();
});

server.on('request', provider.callback());

const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref(); // open keep-alive connections do not hold it
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// app/local/auth.py passes --exit-with-stdin and a pipe on stdin it never writes: its end means the parent
// is gone (even if it was killed before it could stop this server).
if (options['exit-with-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}

process.stdout.write(
  `${JSON.stringify({
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/reg`,
    resource: RESOURCE,
    read_scope: READ,
    write_scope: WRITE,
    machine_client_id: MACHINE_ID,
    machine_client_secret: MACHINE_SECRET,
  })}\n`,
);
