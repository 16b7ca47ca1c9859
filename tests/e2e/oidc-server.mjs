// A certified OpenID provider (npm `oidc-provider`) configured for the end-to-end tests:
// auth code + PKCE (required), refresh tokens that rotate on every use, a short access token
// lifetime, revocation, and oidc-provider's built-in dev login + consent pages.
//
//   node oidc-server.mjs --port 3000 --redirect-uri https://my.home-assistant.io/redirect/oauth \
//     --redirect-uri http://127.0.0.1:8123/auth/external/callback
//
// Test-only admin routes (not part of the provider):
//   GET  /e2e/stats          how many tokens were issued/refreshed, how many grants are live,
//                            the redirect_uri of each authorization request and code exchange
//   POST /e2e/revoke-grants  destroy every grant and all its tokens (what "revoke access" in a
//                            provider's account page does); the next refresh gets invalid_grant
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: opts } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3000' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'ha-e2e' },
    'client-secret': { type: 'string', default: 'ha-e2e-secret' },
    'access-ttl': { type: 'string', default: '30' },
  },
});

const issuer = `http://${opts.host}:${opts.port}`;
const accessTtl = Number(opts['access-ttl']);
const grants = new Set();
const stats = {
  authorization_code: 0, refresh_token: 0, revoked_grants: 0, refresh_errors: 0,
  // The redirect_uri of every accepted authorization request and code exchange, in order.
  redirect_uris: { authorize: [], token: [] },
};

const log = (...args) => console.log(new Date().toISOString(), '[oidc]', ...args);

const provider = new Provider(issuer, {
  clients: [{
    client_id: opts['client-id'],
    client_secret: opts['client-secret'],
    redirect_uris: opts['redirect-uri'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'offline_access', 'profile', 'api'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
  },
  // Put the profile claims into the id_token too: HA labels the account from it.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: `E2E ${id}`, preferred_username: id };
      },
    };
  },
  // OpenID Connect Core 11 drops offline_access unless the request says prompt=consent, which
  // Home Assistant's authorize step does not send; like most providers (Keycloak, Auth0 with
  // rotation), issue refresh tokens to every client allowed the refresh_token grant, and keep
  // them alive independently of the provider's login session.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  pkce: { required: () => true },
  // Refresh token rotation: every refresh consumes the old token and issues a new one.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 120,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Interaction: 600,
    Session: 24 * 3600,
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    // No resource indicators: access tokens stay opaque and valid at userinfo, which is how
    // the demo API (API-only mode) validates them.
    resourceIndicators: { enabled: false },
  },
  cookies: { keys: ['oauth2-rest-e2e-cookie-key'] },
});

provider.on('server_error', (ctx, err) => log('server_error', err));
provider.on('authorization.accepted', (ctx) => {
  stats.redirect_uris.authorize.push(ctx.oidc.params.redirect_uri);
  log(`authorization request accepted, redirect_uri ${ctx.oidc.params.redirect_uri}`);
});
provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params.grant_type;
  if (type in stats) stats[type] += 1;
  if (type === 'authorization_code') stats.redirect_uris.token.push(ctx.oidc.params.redirect_uri);
  const grantId = ctx.oidc.entities?.RefreshToken?.grantId
    ?? ctx.oidc.entities?.AuthorizationCode?.grantId;
  if (grantId) grants.add(grantId);
  log(`token issued (${type}), grant ${grantId ?? '?'}`);
});
provider.on('grant.error', (ctx, err) => {
  if (ctx.oidc.params?.grant_type === 'refresh_token') stats.refresh_errors += 1;
  log(`token error (${ctx.oidc.params?.grant_type}): ${err.message}`);
});
provider.on('grant.revoked', (ctx, grantId) => log(`grant revoked ${grantId}`));
provider.on('interaction.started', (ctx, prompt) => log(`interaction: ${prompt.name}`));

async function revokeAll() {
  let count = 0;
  for (const grantId of grants) {
    const grant = await provider.Grant.find(grantId);
    if (grant) await grant.destroy();
    // One grant index holds the codes, access and refresh tokens of the grant.
    await provider.AccessToken.revokeByGrantId(grantId);
    await provider.RefreshToken.revokeByGrantId(grantId);
    await provider.AuthorizationCode.revokeByGrantId(grantId);
    grants.delete(grantId);
    count += 1;
  }
  stats.revoked_grants += count;
  return count;
}

const handler = provider.callback();
const server = http.createServer(async (req, res) => {
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  try {
    if (req.url === '/e2e/stats' && req.method === 'GET') {
      json(200, { ...stats, live_grants: grants.size, access_ttl: accessTtl });
      return;
    }
    if (req.url === '/e2e/revoke-grants' && req.method === 'POST') {
      const revoked = await revokeAll();
      log(`admin: revoked ${revoked} grant(s)`);
      json(200, { revoked });
      return;
    }
  } catch (err) {
    log('admin error', err);
    json(500, { error: String(err) });
    return;
  }
  handler(req, res);
});

server.listen(Number(opts.port), opts.host, () => {
  log(`issuer ${issuer} (access tokens ${accessTtl} s, client ${opts['client-id']}, `
    + `redirect ${opts['redirect-uri'].join(' ')})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
