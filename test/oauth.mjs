// oauth.mjs: an authorization server without dynamic client registration (Cognito), made
// usable by MCP clients: the official TypeScript SDK's OAuth client (auth(), as Claude Code
// and other SDK-based clients run it) against `serve` with MCP_OAUTH_CLIENT_ID. The client
// finds the protected-resource metadata from the 401, the server's authorization-server
// metadata (RFC 8414), registers (RFC 7591) and gets the provisioned public client, then is
// sent to Cognito's authorize endpoint with PKCE. Also the refusals. Exact results.
//
//   . test/node.sh && "$NODE22" test/oauth.mjs build/hello
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { checks } from './checks.mjs';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

const BINARY = path.resolve(process.argv[2] || 'build/hello');
const { eq, within, sleep, done } = checks(30);

const COGNITO = 'https://mcp-demo.auth.us-east-1.amazoncognito.com';
const REDIRECT = 'http://localhost:8080/callback';
const port = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const base = `http://127.0.0.1:${port}`;
const srv = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`], {
  stdio: 'ignore',
  env: {
    ...process.env,
    MCP_JWT_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Demo',
    MCP_OAUTH_SCOPES: 'mcp-demo/tools',
    MCP_OAUTH_CLIENT_ID: '5abc123provisioned',
    MCP_OAUTH_AUTHORIZATION_ENDPOINT: `${COGNITO}/oauth2/authorize`,
    MCP_OAUTH_TOKEN_ENDPOINT: `${COGNITO}/oauth2/token`,
    MCP_OAUTH_REDIRECT_URIS: `${REDIRECT},http://localhost:6274/oauth/callback`,
  },
});
try {
  for (let i = 0; ; i++) {
    try { await fetch(`${base}/health`); break; } catch (e) { if (i === 100) throw e; await sleep(50); }
  }
  const unauth = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
  eq('POST /mcp without a token: 401 naming the metadata', [unauth.status, unauth.headers.get('www-authenticate')],
    [401, `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`]);
  eq('protected-resource metadata names this server as the authorization server',
    await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json(),
    { resource: `${base}/mcp`, authorization_servers: [base], scopes_supported: ['mcp-demo/tools'], bearer_methods_supported: ['header'] });
  eq('authorization-server metadata: Cognito endpoints, this server registers', await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json(), {
    issuer: base, authorization_endpoint: `${COGNITO}/oauth2/authorize`, token_endpoint: `${COGNITO}/oauth2/token`,
    registration_endpoint: `${base}/register`, response_types_supported: ['code'], grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['none'], scopes_supported: ['mcp-demo/tools'],
  });

  // the SDK's own flow, as a client runs it on a 401
  const saved = {};
  const provider = {
    get redirectUrl() { return REDIRECT; },
    get clientMetadata() { return { client_name: 'oauth-test', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }; },
    clientInformation() { return saved.client; },
    saveClientInformation(c) { saved.client = c; },
    tokens() { return undefined; },
    saveTokens(t) { saved.tokens = t; },
    redirectToAuthorization(u) { saved.url = u; },
    saveCodeVerifier(v) { saved.verifier = v; },
    codeVerifier() { return saved.verifier; },
  };
  eq('auth(): the SDK client ends at the redirect to sign in', await auth(provider, { serverUrl: `${base}/mcp` }), 'REDIRECT');
  eq('auth(): registration handed out the provisioned public client',
    [saved.client?.client_id, saved.client?.token_endpoint_auth_method, saved.client?.redirect_uris, saved.client?.client_name],
    ['5abc123provisioned', 'none', [REDIRECT], 'oauth-test']);
  const u = saved.url;
  eq('auth(): sent to Cognito\'s authorize endpoint with the client, PKCE S256, redirect URI and scope',
    [u?.origin + u?.pathname, u?.searchParams.get('client_id'), u?.searchParams.get('response_type'), u?.searchParams.get('code_challenge_method'),
      u?.searchParams.get('redirect_uri'), u?.searchParams.get('scope'), (u?.searchParams.get('code_challenge') || '').length],
    [`${COGNITO}/oauth2/authorize`, '5abc123provisioned', 'code', 'S256', REDIRECT, 'mcp-demo/tools', 43]);

  const reg = (body) => fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const r1 = await reg(JSON.stringify({ redirect_uris: ['http://localhost:9999/cb'] }));
  eq('register: an unprovisioned redirect URI is refused (400 invalid_redirect_uri)', [r1.status, await r1.json()],
    [400, { error: 'invalid_redirect_uri', error_description: `redirect URI http://localhost:9999/cb is not one the client was provisioned with: ${REDIRECT} http://localhost:6274/oauth/callback` }]);
  const r2 = await reg(JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' }));
  eq('register: a confidential client is refused', [r2.status, (await r2.json()).error], [400, 'invalid_client_metadata']);
  const r3 = await reg('not json');
  eq('register: a body that is not JSON is refused', [r3.status, (await r3.json()).error_description], [400, 'the body must be a JSON object of client metadata']);
  const r4 = await reg(JSON.stringify({ client_name: 'x' }));
  eq('register: no redirect_uris is refused', [r4.status, (await r4.json()).error_description], [400, 'redirect_uris must be a non-empty array']);
  const r5 = await fetch(`${base}/register`);
  eq('GET /register: 405', [r5.status, r5.headers.get('allow')], [405, 'POST, OPTIONS']);
} finally {
  srv.kill('SIGTERM');
}
done();
