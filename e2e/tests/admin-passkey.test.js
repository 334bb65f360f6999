// The Admin's second step with a passkey, in English and Dutch: at the first
// sign-in the set-up page offers Add a passkey instead of an authenticator
// app (Chromium's virtual authenticator answers, through the DevTools
// protocol's WebAuthn domain); the recovery codes are shown once; the next
// sign-in is the password and Use a passkey, one gesture. WebAuthn takes no
// IP address, so this test reaches the Admin as localhost.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adminSignOut } from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { addVirtualAuthenticator } from '../lib/webauthn.js';

// The Admin's passkey texts (crates/admin/locales/{en,nl}.txt, passkey.*).
const PASSKEY = {
  en: { add: 'Add a passkey', name: 'Passkey name', use: 'Use a passkey', list: 'Passkeys and security keys', never: 'never used' },
  nl: { add: 'Passkey toevoegen', name: 'Naam van de passkey', use: 'Passkey gebruiken', list: 'Passkeys en beveiligingssleutels', never: 'nooit gebruikt' },
};

async function password(page, server, L) {
  await page.getByRole('heading', { name: L.adminLoginTitle, level: 1 }).waitFor();
  await page.getByLabel(L.username, { exact: true }).fill(server.adminUser);
  await page.getByLabel(L.password, { exact: true }).fill(server.adminPassword);
  await page.getByRole('button', { name: L.adminSignIn, exact: true }).click();
}

for (const lang of ['en', 'nl']) {
  test(`Admin: a passkey as the second step (${lang})`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`admin-passkey-${lang}`, { lang }, async ({ server, s, L }) => {
      const P = PASSKEY[lang];
      const admin = server.adminUrl.replace('127.0.0.1', 'localhost');
      const page = await s.newPage();
      const authenticator = await addVirtualAuthenticator(page);

      // First sign-in: the set-up page; a passkey instead of an app.
      await page.goto(admin);
      await password(page, server, L);
      await page.waitForURL((u) => u.pathname === '/admin/login/two-factor/setup');
      await page.getByRole('heading', { name: L.twoFactorSetupTitle, level: 1 }).waitFor();
      await s.audit(page, `admin-passkey-setup-${lang}`);
      await page.getByLabel(P.name, { exact: true }).fill('Work laptop');
      await page.getByRole('button', { name: P.add, exact: true }).click();
      const codes = page.getByRole('list', { name: L.recoveryCodesList });
      await codes.waitFor();
      assert.equal((await codes.getByRole('listitem').allInnerTexts()).length, 10, 'ten recovery codes, once');
      assert.equal((await authenticator.credentials()).length, 1, 'the authenticator holds one passkey');
      await s.shot(page, `admin-passkey-codes-${lang}`);
      await page.getByRole('link', { name: L.continueToAdmin, exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/admin/amazon');

      // Signed out, then in again: the password, then one gesture.
      await adminSignOut(page, L);
      await password(page, server, L);
      await page.waitForURL((u) => u.pathname === '/admin/login/two-factor');
      await page.getByRole('heading', { name: L.twoFactorTitle, level: 1 }).waitFor();
      const use = page.getByRole('button', { name: P.use, exact: true });
      await use.waitFor();
      await s.shot(page, `admin-passkey-second-step-${lang}`);
      await s.audit(page, `admin-passkey-second-step-${lang}`);
      await use.click();
      await page.waitForURL((u) => u.pathname === '/admin/amazon');

      // Account Setting lists it, used just now.
      await page.goto(`${admin}/system/account`);
      const list = page.getByRole('list', { name: P.list });
      await list.getByText('Work laptop', { exact: true }).waitFor();
      assert.equal(await list.getByText(P.never).count(), 0, 'the passkey shows a last use');
      await s.audit(page, `admin-passkey-account-setting-${lang}`);
      const names = (await s.context.cookies(admin)).map((c) => c.name);
      assert.ok(names.includes('adm_sid'), `signed in on localhost: ${names.join(', ')}`);
    });
  });
}
