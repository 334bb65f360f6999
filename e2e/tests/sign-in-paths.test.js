// Sign in from the Admin's welcome page, for a user who is already signed in to
// the account site, and for one who has an account but is signed out.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  adminSignIn, apiSignup, expectPortal, expectWelcome, newAccount, openChannel,
  openSignInTab, signUpHere,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

test('signed in on the account site: Sign in lands straight on the API Portal', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('signed-in', {}, async ({ server, s, L }) => {
    // The merchant has an account and is signed in on the account site.
    const account = newAccount();
    const site = await s.newPage();
    await site.goto(`${server.accountUrl}/signup`);
    await signUpHere(s, site, L, account, { shots: false });

    // In the same browser: the Admin's welcome page, Sign in.
    const admin = await s.newPage();
    await adminSignIn(s, admin, server, L);
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.missing);
    const tab = await openSignInTab(s, admin, L);

    // No sign-in page in between: the API Portal, signed in as that account.
    await expectPortal(tab, L);
    await tab.getByText(account.email, { exact: true }).first().waitFor();
    assert.equal(await tab.getByLabel(L.accountPassword).count(), 0, 'no password asked');
    await s.shot(tab, 'api-portal-signed-in');
    await s.audit(tab, 'api-portal-signed-in');

    // Both sessions live side by side on one host (acct_sid and adm_sid).
    await admin.bringToFront();
    await admin.reload();
    await expectWelcome(admin, L, L.missing);
    const names = (await s.context.cookies()).map((c) => c.name);
    assert.ok(names.includes('acct_sid') && names.includes('adm_sid'), `cookies: ${names.join(', ')}`);
  });
});

test('signed out with an account: Sign in asks for email and password, then the API Portal', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('signed-out-existing', {}, async ({ server, s, L }) => {
    const account = newAccount();
    await apiSignup(server.accountUrl, account); // registered earlier, not in this browser

    const admin = await s.newPage();
    await adminSignIn(s, admin, server, L);
    await openChannel(admin, L);
    await expectWelcome(admin, L, L.missing);
    const tab = await openSignInTab(s, admin, L);

    await tab.getByRole('heading', { name: L.accountSignInTitle, level: 1 }).waitFor();
    await tab.getByRole('status').filter({ hasText: L.toContinue }).waitFor();

    // A wrong password first: a clear message, still on the sign-in page.
    s.allow(/status of 401/);
    await tab.getByLabel(L.email, { exact: true }).fill(account.email);
    await tab.getByLabel(L.accountPassword, { exact: true }).fill('not-the-password!');
    await tab.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
    await tab.getByRole('alert').filter({ hasText: L.loginFailed }).waitFor();
    assert.equal(await tab.getByLabel(L.email, { exact: true }).inputValue(), account.email, 'the email is kept');
    await s.shot(tab, 'account-sign-in-failed');
    await s.audit(tab, 'account-sign-in-failed');

    await tab.getByLabel(L.accountPassword, { exact: true }).fill(account.password);
    await tab.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
    await tab.waitForURL((u) => u.pathname === '/account/api-portal');
    await expectPortal(tab, L);
  });
});
