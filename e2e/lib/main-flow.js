// The merchant documentation, step by step, in one language.

import assert from 'node:assert/strict';

import {
  addKeyInAdmin, addPrivateKeyInAdmin, addStore, addStoreValidation, adminSignIn, adminSignOut, copyKey, copyPrivateKey, createKey,
  expectWelcome, keyStatus, newAccount, openChannel, openPortalTab, openSignInTab, signUpFromSignIn,
} from './flows.js';
import { withWorld } from './fixture.js';

export async function mainFlow(lang) {
  await withWorld(`main-${lang}`, { lang }, async ({ server, s, L, origins }) => {
    const audit = (page, label, opts = {}) => s.audit(page, label, { lang, ...opts });

    // The merchant signs in to the Admin: the first sign-in sets up the
    // authenticator app (QR code and key, a code, the recovery codes once).
    const admin = await s.newPage();
    await adminSignIn(s, admin, server, L, { audit: true });
    // Every later sign-in asks for a code from the app: Two-step sign-in.
    await adminSignOut(admin, L);
    await adminSignIn(s, admin, server, L, { audit: true });
    // Then the Amazon Sales Channel.
    await openChannel(admin, L);

    // Welcome to Amazon Sales Channel: no key yet.
    await expectWelcome(admin, L, L.missing);
    assert.equal(await keyStatus(admin, origins.admin), 'missing');
    await s.shot(admin, 'welcome');
    await audit(admin, 'welcome', { mobileShot: true });

    // Sign in opens the account site in a new tab; not signed in, no account yet.
    const tab = await openSignInTab(s, admin, L);
    await signUpFromSignIn(s, tab, L, newAccount());
    await audit(tab, 'api-portal');

    // API Portal: Amazon Sales Channel, Add New (the recommended choice:
    // Generate a key pair for me), Copy. The panel says, next to Copy, that
    // the private key belongs in Production Private key.
    const key = await createKey(tab, L);
    const copied = await copyKey(tab, L, key);
    await s.shot(tab, 'api-portal-new-key');
    await audit(tab, 'api-portal-new-key', { mobileShot: true });
    const pem = await copyPrivateKey(tab, L);

    // Back in the Admin: Add the key, paste, Save Config, as the documentation says.
    await addKeyInAdmin(s, admin, L, copied);

    // The key alone is not enough: the welcome page names the missing private key.
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.privateKeyMissing);
    assert.equal(await keyStatus(admin, origins.admin), 'invalid');
    await s.shot(admin, 'welcome-private-key-missing');
    await audit(admin, 'welcome-private-key-missing');
    await addPrivateKeyInAdmin(s, admin, L, pem);

    // Amazon Sales Channel again: the key is valid, on to Store Integration.
    await openChannel(admin, L);
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
    assert.equal(await admin.getByRole('heading', { name: L.welcome }).count(), 0);
    assert.equal(await keyStatus(admin, origins.admin), 'valid');
    await audit(admin, 'store-integration-empty');

    await addStoreValidation(s, admin, L);
    await s.shot(admin, 'store-validation');
    await audit(admin, 'store-validation');

    await addStore(admin, L, { name: 'Luma US', email: 'seller@example.com', marketplace: L.marketplaceUS });
    // Registered with the account service: no row says otherwise, no warning.
    const stores = admin.getByRole('table', { name: L.storesTable });
    assert.equal(await stores.locator('[data-unregistered]').count(), 0, 'the store registered');
    assert.equal(await admin.locator('[data-sync-problem]').count(), 0, 'no problem reported');
    await s.shot(admin, 'store-integration');
    await audit(admin, 'store-integration', { mobileShot: true });

    // The key was used: the portal's list shows it valid still.
    await tab.bringToFront();
    await openPortalTab(tab, L);
    const rows = tab.getByRole('table', { name: L.keysTable }).getByRole('row').filter({ hasText: key.slice(-4) });
    await rows.getByText(L.statusValid, { exact: true }).waitFor();
  });
}
