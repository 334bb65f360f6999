// The account service's Login with Amazon client against an OAuth 2.0 server
// that nobody here wrote (@node-oauth/oauth2-server, RFC 6749): the code
// exchange of the callback and the refresh-token proof of a check, over real
// HTTP, so the client is not only consistent with our own stand-in.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { apiCreateKey, apiSignup, newAccount } from '../lib/flows.js';
import { TEST_TIMEOUT } from '../lib/fixture.js';
import { startOAuthServer } from '../lib/oauth-server.js';
import { artifactDir, freePort, freshDataDir, removeDir, startCommerce } from '../lib/server.js';

const CLIENT_ID = 'amzn1.application-oa2-client.3rdpartytest';
const APP_ID = 'amzn1.sellerapps.app.3rdpartytest';

async function call(base, method, route, key, body) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

test('a third-party OAuth 2.0 server: code exchange, refresh proofs, and a revoked grant', { timeout: TEST_TIMEOUT }, async () => {
  const dir = artifactDir('lwa-third-party');
  const dataDir = await freshDataDir();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const redirectUri = `${base}/amazon/authorize/callback`;
  const secret = `secret-${Date.now()}-3rdparty`;
  const oauth = await startOAuthServer({ id: CLIENT_ID, secret, redirectUri });
  const secretFile = path.join(dataDir, 'lwa-client-secret');
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  let server;
  try {
    server = await startCommerce({
      dataDir,
      logFile: path.join(dir, 'server.log'),
      args: [
        'serve', '--account-addr', `127.0.0.1:${port}`, '--admin-addr', '127.0.0.1:0',
        '--public-url', base,
        '--amazon-application-id', APP_ID,
        '--lwa-client-id', CLIENT_ID,
        '--lwa-client-secret-file', secretFile,
        '--lwa-token-url', oauth.tokenUrl,
        // Never followed here: the test plays the consent page itself.
        '--seller-central-url', 'US=https://sellercentral.amazon.com',
      ],
      expect: ['accountUrl', 'adminUrl'],
    });
    const sid = await apiSignup(base, newAccount());
    const { key } = await apiCreateKey(base, sid, { name: 'third party' });

    const created = await call(base, 'POST', '/amazon/v1/stores', key, {
      name: 'Third Party Store', email: 'shop@example.com', country: 'US', website_url: 'https://shop.example.com',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const store = created.json;
    assert.equal(store.status, 'authorization_pending');

    // Connect: the link sets the state cookie and sends the browser to the consent page.
    const link = await call(base, 'POST', `/amazon/v1/stores/${store.id}/connect-links`, key);
    assert.equal(link.status, 201, JSON.stringify(link.json));
    const opened = await fetch(link.json.url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    assert.equal(opened.status, 303);
    const consent = new URL(opened.headers.get('location'));
    assert.equal(consent.origin + consent.pathname, 'https://sellercentral.amazon.com/apps/authorize/consent');
    assert.equal(consent.searchParams.get('application_id'), APP_ID);
    assert.equal(consent.searchParams.get('redirect_uri'), redirectUri);
    const state = consent.searchParams.get('state');
    assert.ok(state && state.length >= 43, 'a state of at least 256 bits');
    const cookie = opened.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    assert.ok(cookie, 'the link binds the state to this browser with a cookie');

    // The seller consents: the third-party server issues a code for the redirect URI.
    const code = oauth.issueCode('A3THIRDPARTY01');
    const back = new URL(redirectUri);
    back.searchParams.set('state', state);
    back.searchParams.set('selling_partner_id', 'A3THIRDPARTY01');
    back.searchParams.set('spapi_oauth_code', code);
    const landed = await fetch(back, { headers: { cookie }, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    assert.equal(landed.status, 200, await landed.clone().text());
    assert.equal(landed.headers.get('referrer-policy'), 'no-referrer');
    const page = await landed.text();
    assert.ok(!page.includes(code), 'the page never shows the code');

    const exchange = oauth.requests.find((r) => r.body.grant_type === 'authorization_code');
    assert.ok(exchange, 'the code reached the token endpoint');
    assert.match(exchange.contentType, /^application\/x-www-form-urlencoded/);
    assert.equal(exchange.body.client_id, CLIENT_ID);
    assert.equal(exchange.body.client_secret, secret, 'client_secret_post');
    assert.equal(exchange.body.redirect_uri, redirectUri);
    assert.equal(exchange.body.code, code);

    const active = await call(base, 'GET', `/amazon/v1/stores/${store.id}`, key);
    assert.equal(active.json.status, 'active', JSON.stringify(active.json));
    assert.equal(active.json.seller_id, 'A3THIRDPARTY01');
    assert.ok(active.json.authorized_at && active.json.authorization_expires_at);

    // Two proofs in a row: this server rotates refresh tokens on every use,
    // so the second works only if the first's new token was kept.
    for (let i = 0; i < 2; i += 1) {
      const checked = await call(base, 'POST', `/amazon/v1/stores/${store.id}/check`, key);
      assert.equal(checked.status, 200, JSON.stringify(checked.json));
      assert.equal(checked.json.status, 'active', `proof ${i + 1}: ${JSON.stringify(checked.json)}`);
    }
    const refreshes = oauth.requests.filter((r) => r.body.grant_type === 'refresh_token');
    assert.equal(refreshes.length, 2);
    for (const r of refreshes) {
      assert.equal(r.body.client_secret, secret);
      assert.match(r.body.refresh_token, /^Atzr\|/);
    }

    // The seller removes the app: the next proof gets invalid_grant.
    oauth.revokeRefreshTokens();
    const lapsed = await call(base, 'POST', `/amazon/v1/stores/${store.id}/check`, key);
    assert.equal(lapsed.status, 200, JSON.stringify(lapsed.json));
    assert.equal(lapsed.json.status, 'reauthorization_required');

    // A replayed code is refused by the server and named on the store.
    const link2 = await call(base, 'POST', `/amazon/v1/stores/${store.id}/connect-links`, key);
    const opened2 = await fetch(link2.json.url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    const state2 = new URL(opened2.headers.get('location')).searchParams.get('state');
    const cookie2 = opened2.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    back.searchParams.set('state', state2);
    const replay = await fetch(back, { headers: { cookie: cookie2 }, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    assert.ok(replay.status < 500, `replayed code: ${replay.status}`);
    const failed = await call(base, 'GET', `/amazon/v1/stores/${store.id}`, key);
    assert.equal(failed.json.status, 'authorization_failed');
    assert.equal(failed.json.reason, 'invalid_grant');
  } finally {
    await server?.stop();
    await oauth.stop();
    await removeDir(dataDir);
  }
});
