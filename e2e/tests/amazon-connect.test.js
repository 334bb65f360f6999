// Connect to Amazon, as a merchant does it: Store Integration → Connect store
// (a new tab) → Seller Central's consent (the test kit's stand-in, which
// follows Amazon's documented contract) → the account service's callback →
// the Admin tab shows the store Active when it is focused again. Then a
// replayed and a forged state are refused, and the store is deactivated,
// activated and deleted. In English and in Dutch.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { poll } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import {
  addStore, adminSignIn, apiCreateKey, apiSignup, newAccount, openChannel,
} from '../lib/flows.js';
import { runCli, startCommerce, startStandIn } from '../lib/server.js';

const KEY_PATH = 'services_connector/services_connector_integration/production_api_key';
const APP_ID = 'amzn1.sellerapps.app.e2e00000-0000-0000-0000-000000000001';
const CLIENT_ID = 'amzn1.application-oa2-client.e2e';

async function startWorld({ dataDir, log, own }) {
  const secretFile = path.join(dataDir, 'lwa-client-secret');
  fs.writeFileSync(secretFile, 'e2e-lwa-client-secret-0123456789\n', { mode: 0o600 });
  const standin = own(await startStandIn({
    applicationId: APP_ID, clientId: CLIENT_ID, secretFile, logFile: log,
  }));
  const server = own(await startCommerce({
    dataDir,
    logFile: log,
    args: [
      'serve', '--account-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0',
      '--amazon-application-id', APP_ID,
      '--lwa-client-id', CLIENT_ID,
      '--lwa-client-secret-file', secretFile,
      '--lwa-token-url', standin.lwaUrl,
      '--seller-central-url', `US=${standin.sellerCentralUrl}`,
    ],
    expect: ['accountUrl', 'adminUser', 'adminUrl'],
  }));
  return { standin, server };
}

function storeRow(page, L, name) {
  return page.getByRole('table', { name: L.storesTable }).getByRole('row').filter({ hasText: name });
}

for (const lang of ['en', 'nl']) {
  test(`Connect to Amazon (${lang}): Connect store, consent, Active; replayed and forged states; deactivate, activate, delete`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`amazon-connect-${lang}`, { lang, start: false }, async ({ s, L, dataDir, log, own }) => {
      const { server } = await startWorld({ dataDir, log, own });
      const sid = await apiSignup(server.accountUrl, newAccount());
      const { key } = await apiCreateKey(server.accountUrl, sid, { name: 'Amazon Sales Channel' });
      runCli(dataDir, ['config:set', KEY_PATH, key]);

      const admin = await s.newPage();
      await adminSignIn(s, admin, server, L);
      await openChannel(admin, L);
      await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
      const store = { name: `Luma ${lang.toUpperCase()}`, email: 'seller@example.com', marketplace: L.marketplaceUS };
      await addStore(admin, L, store);
      const row = storeRow(admin, L, store.name);
      await s.shot(admin, 'store-pending');
      await s.audit(admin, 'store-pending');

      // Connect store opens Seller Central's consent page in a new tab.
      const [tab] = await Promise.all([
        s.context.waitForEvent('page'),
        row.getByRole('button', { name: L.connectStore, exact: true }).click(),
      ]);
      await tab.getByRole('button', { name: 'Confirm', exact: true }).waitFor();
      await s.shot(tab, 'seller-central-consent');
      await tab.getByRole('button', { name: 'Confirm', exact: true }).click();

      // The callback: the store is Active; the page says to return to the Admin.
      await tab.getByRole('heading', { name: L.storeAuthorized }).waitFor();
      await tab.getByText(L.nowActive).waitFor();
      await tab.getByText(L.returnToAdmin).waitFor();
      const callback = new URL(tab.url());
      assert.equal(callback.pathname, '/amazon/authorize/callback');
      await s.shot(tab, 'callback-active');
      await s.audit(tab, 'callback-active');

      // Back in the Admin tab: focusing it shows the new status.
      await admin.bringToFront();
      await admin.evaluate(() => window.dispatchEvent(new Event('focus')));
      await poll(async () => (await storeRow(admin, L, store.name).getByText(L.active, { exact: true }).count()) > 0,
        { timeoutMs: 10_000, what: `${store.name} shown as ${L.active}` });
      await s.shot(admin, 'store-active');
      await s.audit(admin, 'store-active');

      // The same answer from Seller Central again: refused, nothing changes.
      s.allow(/status of 400/);
      await tab.bringToFront();
      const replay = await tab.goto(callback.href);
      assert.equal(replay.status(), 400);
      await tab.getByText(L.stateUsed).waitFor();
      await s.shot(tab, 'callback-replayed');
      await s.audit(tab, 'callback-replayed');

      // A forged state (a link crafted elsewhere): refused as well.
      const forged = new URL(callback.href);
      forged.searchParams.set('state', 'forged0123456789forged0123456789forged012345');
      forged.searchParams.set('spapi_oauth_code', 'ANforgedCode');
      const forgedAnswer = await tab.goto(forged.href);
      assert.equal(forgedAnswer.status(), 400);
      await tab.getByText(L.stateUnknown).waitFor();
      await s.shot(tab, 'callback-forged');

      await admin.bringToFront();
      await openChannel(admin, L);
      await storeRow(admin, L, store.name).getByText(L.active, { exact: true }).waitFor();

      // Managing stores: Deactivate keeps the authorization; Activate; Delete.
      await storeRow(admin, L, store.name).getByRole('button', { name: L.deactivate, exact: true }).click();
      await admin.getByRole('status').filter({ hasText: L.deactivated }).waitFor();
      await storeRow(admin, L, store.name).getByText(L.inactive, { exact: true }).waitFor();
      await storeRow(admin, L, store.name).getByRole('button', { name: L.activate, exact: true }).click();
      await admin.getByRole('status').filter({ hasText: L.activated }).waitFor();
      await storeRow(admin, L, store.name).getByText(L.active, { exact: true }).waitFor();

      await storeRow(admin, L, store.name).getByRole('link', { name: L.deleteStore, exact: true }).click();
      await admin.getByRole('heading', { name: L.deleteTitle }).waitFor();
      await s.shot(admin, 'delete-confirm');
      await s.audit(admin, 'delete-confirm');
      await admin.getByRole('button', { name: L.deleteStore, exact: true }).click();
      await admin.getByRole('status').filter({ hasText: L.deleted }).waitFor();
      assert.equal(await storeRow(admin, L, store.name).count(), 0);
      const left = await fetch(`${server.accountUrl}/amazon/v1/stores`, { headers: { 'x-api-key': key } });
      assert.deepEqual((await left.json()).stores, [], 'the registration is gone on the account service too');
    });
  });
}
