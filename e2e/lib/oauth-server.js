// A standards-compliant OAuth 2.0 token endpoint that nobody on this project
// wrote: @node-oauth/oauth2-server (RFC 6749) behind Node's own HTTP server, at
// Login with Amazon's path `/auth/o2/token`, with client_secret_post. It keeps
// the protocol rules (single-use codes bound to client and redirect URI, code
// expiry, client authentication, grant types, RFC 6749 §5.2 errors); this file
// only supplies the in-memory storage its model interface asks for, and a log
// of what reached the endpoint.

import { once } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';

const require = createRequire(import.meta.url);
const OAuth2Server = require('@node-oauth/oauth2-server');

/**
 * Starts the server on 127.0.0.1:0. `client` = {id, secret, redirectUri}.
 * Returns {tokenUrl, issueCode(sellerId), revokeRefreshTokens(), requests, stop()}.
 */
export async function startOAuthServer(client) {
  const codes = new Map();
  const refreshTokens = new Map();
  const requests = [];
  const oauthClient = {
    id: client.id,
    redirectUris: [client.redirectUri],
    grants: ['authorization_code', 'refresh_token'],
  };
  const model = {
    async getClient(id, secret) {
      if (id !== client.id) return null;
      if (secret != null && secret !== client.secret) return null;
      return oauthClient;
    },
    async getAuthorizationCode(code) {
      return codes.get(code) || null;
    },
    async revokeAuthorizationCode(code) {
      return codes.delete(code.authorizationCode);
    },
    async saveToken(token, c, user) {
      const saved = { ...token, client: c, user };
      if (token.refreshToken) refreshTokens.set(token.refreshToken, saved);
      return saved;
    },
    async getRefreshToken(refreshToken) {
      return refreshTokens.get(refreshToken) || null;
    },
    async revokeToken(token) {
      return refreshTokens.delete(token.refreshToken);
    },
    async generateAccessToken() {
      return `Atza|${crypto.randomBytes(32).toString('base64url')}`;
    },
    async generateRefreshToken() {
      return `Atzr|${crypto.randomBytes(32).toString('base64url')}`;
    },
  };
  const oauth = new OAuth2Server({ model, accessTokenLifetime: 3600, refreshTokenLifetime: 400 * 86400 });

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    const body = Object.fromEntries(new URLSearchParams(raw));
    requests.push({ method: req.method, path: url.pathname, contentType: req.headers['content-type'] || '', body });
    if (req.method !== 'POST' || url.pathname !== '/auth/o2/token') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    const request = new OAuth2Server.Request({
      method: req.method,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });
    const response = new OAuth2Server.Response({});
    try {
      await oauth.token(request, response);
    } catch {
      // The library has already put the RFC 6749 error into `response`.
    }
    res.writeHead(response.status || 500, { 'content-type': 'application/json', ...response.headers });
    res.end(JSON.stringify(response.body || {}));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    tokenUrl: `http://127.0.0.1:${port}/auth/o2/token`,
    requests,
    /** An authorization code for `sellerId`, as the consent page would issue it. */
    issueCode(sellerId, redirectUri = client.redirectUri) {
      const code = crypto.randomBytes(24).toString('base64url');
      codes.set(code, {
        authorizationCode: code,
        expiresAt: new Date(Date.now() + 5 * 60 * 1000),
        redirectUri,
        client: oauthClient,
        user: { id: sellerId },
      });
      return code;
    },
    /** The seller removes the app in Seller Central: every refresh token stops working. */
    revokeRefreshTokens() {
      refreshTokens.clear();
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
