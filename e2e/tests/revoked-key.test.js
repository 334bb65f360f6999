// A key revoked in the API Portal closes the Amazon Sales Channel again.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  KEY_NAME, addKeyInAdmin, addPrivateKeyInAdmin, adminSignIn, copyKey, copyPrivateKey, createKey, expectWelcome, keyStatus,
  newAccount, openChannel, openPortalTab, openSignInTab, signUpFromSignIn,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

test('revoked key: Revoke → confirmation → Revoke key → the channel says it was revoked', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('revoked', {}, async ({ server, s, L, origins }) => {
    const admin = await s.newPage();
    await adminSignIn(s, admin, server, L);
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.missing);
    const tab = await openSignInTab(s, admin, L);
    await signUpFromSignIn(s, tab, L, newAccount(), { shots: false });
    const key = await createKey(tab, L);
    await copyKey(tab, L, key);
    const pem = await copyPrivateKey(tab, L);
    await addKeyInAdmin(s, admin, L, key, { shots: false });
    await openChannel(admin, L);
    await addPrivateKeyInAdmin(s, admin, L, pem);
    await openChannel(admin, L);
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();

    // In the API Portal: Revoke, a confirmation page, Revoke key.
    await tab.bringToFront();
    await openPortalTab(tab, L);
    const table = tab.getByRole('table', { name: L.keysTable });
    await table.getByRole('link', { name: L.revokeLink(KEY_NAME), exact: true }).click();
    await tab.getByRole('heading', { name: L.revokeHeading(KEY_NAME), level: 1 }).waitFor();
    await tab.getByText(key.slice(-4), { exact: false }).first().waitFor(); // the hint, to recognise the key
    await s.shot(tab, 'revoke-confirm');
    await s.audit(tab, 'revoke-confirm');
    await tab.getByRole('button', { name: L.revokeConfirm, exact: true }).click();
    await tab.waitForURL((u) => u.pathname === '/account/api-portal');
    await tab.getByRole('status').filter({ hasText: L.revokedNotice }).waitFor();
    const row = table.getByRole('row').filter({ hasText: KEY_NAME });
    await row.getByText(L.statusRevoked, { exact: true }).waitFor();
    assert.equal(await row.getByRole('link', { name: L.revokeLink(KEY_NAME) }).count(), 0, 'a revoked key has no Revoke');
    await s.shot(tab, 'api-portal-revoked');

    // The Admin checks the key on every open: welcome page, revoked.
    await admin.bringToFront();
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.revoked);
    assert.equal(await keyStatus(admin, origins.admin), 'revoked');
    await s.shot(admin, 'welcome-revoked');
    await s.audit(admin, 'welcome-revoked');
  });
});
