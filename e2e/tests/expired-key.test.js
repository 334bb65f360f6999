// A key with an expiry: the channel warns while it is close, and closes once
// it has passed (expiry is checked at verification time).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  adminSignIn, apiCreateKey, expectWelcome, keyStatus, newAccount, openChannel, signUpHere,
} from '../lib/flows.js';
import { poll } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { runCli } from '../lib/server.js';

const KEY_PATH = 'services_connector/services_connector_integration/production_api_key';

/** RFC 3339, whole seconds, at least `secs` seconds from now. */
function inSeconds(secs) {
  const t = new Date(Math.ceil(Date.now() / 1000) * 1000 + secs * 1000);
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

test('expired key: the channel shows the expired message once the expiry has passed', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('expired', {}, async ({ server, s, L, origins, dataDir }) => {
    // Signed in on the account site in the browser; a script uses that session.
    const site = await s.newPage();
    await site.goto(`${server.accountUrl}/signup`);
    await signUpHere(s, site, L, newAccount(), { shots: false });
    const sid = (await s.context.cookies(server.accountUrl)).find((c) => c.name === 'acct_sid');
    assert.ok(sid, 'the account site set acct_sid');
    const cookie = `acct_sid=${sid.value}`;

    const admin = await s.newPage();
    await adminSignIn(s, admin, server, L);

    // A key that expires in a week, stored with the CLI: valid, with a warning.
    const soon = await apiCreateKey(server.accountUrl, cookie, { name: 'x-week', expires_at: inSeconds(7 * 86400) });
    runCli(dataDir, ['config:set', KEY_PATH, soon.key]);
    await openChannel(admin, L);
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
    await admin.getByRole('status').filter({ hasText: L.expiryWarning }).waitFor();
    await s.shot(admin, 'store-integration-expiry-warning');
    await s.audit(admin, 'store-integration-expiry-warning');

    // A key that expires in two seconds, pasted on the configuration page.
    const brief = await apiCreateKey(server.accountUrl, cookie, { name: 'x', expires_at: inSeconds(2) });
    assert.ok(brief.expires_at, 'the answer has expires_at');
    await admin.goto(`${origins.admin}/admin/config/edit/section/magento_services#api_keys`);
    await admin.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionApiKey, { exact: true }).fill(brief.key);
    await admin.getByRole('button', { name: L.saveConfig, exact: true }).click();
    await admin.getByRole('status').filter({ hasText: L.configSaved }).waitFor();

    // Open the channel until it says expired (bounded).
    await poll(async () => {
      await openChannel(admin, L);
      return (await admin.getByRole('status').filter({ hasText: L.expired }).count()) > 0;
    }, { timeoutMs: 10_000, intervalMs: 500, what: 'the expired message' });
    await expectWelcome(admin, L, L.expired);
    assert.equal(await keyStatus(admin, origins.admin), 'expired');
    await s.shot(admin, 'welcome-expired');
    await s.audit(admin, 'welcome-expired');

    // The API Portal lists it as expired too.
    await site.bringToFront();
    await site.reload();
    const row = site.getByRole('table', { name: L.keysTable }).getByRole('row').filter({ hasText: brief.hint });
    await row.getByText(L.statusExpired, { exact: true }).waitFor();
  });
});
