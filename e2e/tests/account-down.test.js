// The two sides as separate processes; the account service stops and comes back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addKeyInAdmin, adminSignIn, apiCreateKey, apiSignup, expectWelcome, keyStatus,
  newAccount, openChannel,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { freePort, startAccount, startAdmin } from '../lib/server.js';

test('account service stopped: "could not be checked right now", Try again after it is back', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('account-down', { start: false }, async ({ s, L, dataDir, log, own }) => {
    const port = await freePort();
    const accountUrl = `http://127.0.0.1:${port}`;
    let account = own(await startAccount(dataDir, port, log));
    assert.equal(account.accountUrl, accountUrl);
    const adminSide = own(await startAdmin(dataDir, accountUrl, log));
    const adminOrigin = new URL(adminSide.adminUrl).origin;

    // A valid key, made by a script and pasted into the configuration page.
    const cookie = await apiSignup(accountUrl, newAccount());
    const { key } = await apiCreateKey(accountUrl, cookie, { name: 'Amazon Sales Channel' });
    const admin = await s.newPage();
    await adminSignIn(s, admin, adminSide, L);
    await expectWelcome(admin, L, L.missing);
    await addKeyInAdmin(s, admin, L, key, { shots: false });
    await openChannel(admin, L);
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();

    // The account service stops (gracefully).
    const { code } = await account.stop();
    assert.equal(code, 0, 'SIGTERM stops the account service with exit 0');

    // Within a few seconds: unreachable, never "invalid"; the key is kept.
    const started = Date.now();
    await openChannel(admin, L);
    const took = Date.now() - started;
    assert.ok(took < 6_000, `the channel page answered in ${took} ms`);
    await expectWelcome(admin, L, L.unreachable);
    await admin.getByText(L.keptKey).waitFor();
    assert.equal(await admin.getByRole('status').filter({ hasText: L.revoked }).count(), 0);
    assert.equal(await admin.getByText(/not valid/).count(), 0, 'unreachable is never shown as invalid');
    assert.equal(await keyStatus(admin, adminOrigin), 'unreachable');

    // The stored key is still there (masked) on the configuration page.
    await admin.goto(`${adminOrigin}/admin/config/edit/section/magento_services`);
    const stored = await admin.getByRole('region', { name: L.apiKeys })
      .getByLabel(L.productionApiKey, { exact: true }).inputValue();
    assert.ok(stored.length > 0 && !stored.includes(key.slice(9, -4)), `the key is kept, masked: "${stored}"`);
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.unreachable);

    // "Try again" looks like a button; it is a link back to the channel page.
    const tryAgain = admin.getByRole('link', { name: L.tryAgain, exact: true })
      .or(admin.getByRole('button', { name: L.tryAgain, exact: true }));
    await tryAgain.waitFor();
    await s.shot(admin, 'welcome-unreachable');
    await s.audit(admin, 'welcome-unreachable');

    // The same account service comes back on the same port and data dir.
    account = own(await startAccount(dataDir, port, log));
    await tryAgain.click();
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
    assert.equal(await keyStatus(admin, adminOrigin), 'valid');
  });
});
