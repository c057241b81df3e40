// A real OpenID Provider for bench/run's oidc cell: npm oidc-provider (the generated oidc
// project's development dependency, so this file runs from inside that project), on loopback,
// issuing one RFC 9068 access token (client credentials, resource indicator) for the benchmark
// caller. Prints one JSON line {"msg":"listening", issuer, accessToken} and serves until killed.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const audience = process.argv[2] ?? 'api://bench';
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'bench-key', alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const client = { client_id: 'bench', client_secret: 'bench-client-secret-for-loopback-only-0123456789' };
const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients: [{ ...client, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], id_token_signed_response_alg: 'ES256' }],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({ scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } }),
    },
  },
  ttl: { ClientCredentials: 3600 },
});
server.on('request', provider.callback());

const response = await fetch(`${issuer}/token`, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
  },
  body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience, scope: 'api' }),
});
const { access_token: accessToken } = await response.json();
if (!accessToken) throw new Error(`the provider issued no token: ${response.status}`);
process.stdout.write(`${JSON.stringify({ msg: 'listening', issuer, accessToken })}\n`);
