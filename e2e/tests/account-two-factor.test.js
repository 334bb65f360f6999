// Two-step sign-in on the account site (SPEC §8), in English and Dutch:
// Account Information → Set up authenticator app (the key read off the page,
// the code computed as an app does with lib/totp.js) → the recovery codes,
// shown once → signed out → the password → Two-step sign-in → a fresh code
// (by keyboard) → API Portal; a used code and a used recovery code are
// refused, an unused recovery code signs in. And a passkey: Chromium's
// virtual authenticator (lib/webauthn.js), Add a passkey → the first
// recovery codes → signed out → the password → Use a passkey → API Portal,
// the passkey listed as used. WebAuthn takes no IP address, so these pages
// are opened as http://localhost:PORT.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  accountPasswordStep, accountSignOut, expectPortal, newAccount, openAccountInformation, signUpHere,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { expectFocused, tabTo } from '../lib/keyboard.js';
import { nextCode } from '../lib/totp.js';
import { addVirtualAuthenticator } from '../lib/webauthn.js';

const path = (page) => new URL(page.url()).pathname;

/** The account service as a browser must reach it for WebAuthn: by name, not by IP. */
const byName = (url) => {
  const u = new URL(url);
  if (u.hostname === '127.0.0.1' || u.hostname === '[::1]') u.hostname = 'localhost';
  return u.origin;
};

/** Signs up on /signup and lands on the API Portal. */
async function signUp(s, tab, site, L) {
  const account = newAccount();
  await tab.goto(`${site}/signup`);
  await signUpHere(s, tab, L, account, { shots: false });
  return account;
}

/** The ten recovery codes on a list named Recovery codes (`where`: the page or a region). */
async function recoveryCodes(where, L, list) {
  const codes = (await (list ?? where.getByRole('list', { name: L.acct2faCodesTitle, exact: true }))
    .getByRole('listitem').allInnerTexts()).map((c) => c.trim());
  assert.equal(codes.length, 10, `ten recovery codes: ${codes.join(', ')}`);
  assert.equal(new Set(codes).size, 10, 'all different');
  for (const c of codes) assert.match(c, /^[a-z0-9]{5}-[a-z0-9]{5}$/, 'a recovery code reads like abcde-fghij');
  return codes;
}

for (const lang of ['en', 'nl']) {
  test(`account two-step sign-in (${lang}): authenticator app, a code at sign-in, recovery codes`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`account-2fa-${lang}`, { lang }, async ({ server, s, L }) => {
      const site = byName(server.accountUrl);
      const tab = await s.newPage();
      const account = await signUp(s, tab, site, L);

      // Account Information: two-step sign-in is off; Set up authenticator app.
      let section = await openAccountInformation(tab, L);
      await section.getByText(L.acct2faStatusOff).waitFor();
      await section.getByRole('heading', { name: L.passkeyAdd, level: 3 }).waitFor();
      await section.getByRole('link', { name: L.acct2faSetUp, exact: true }).click();

      // The setup page: the QR code, and the same secret as text in groups of four.
      await tab.waitForURL((u) => u.pathname === '/account/two-factor/setup');
      await tab.getByRole('heading', { name: L.acct2faSetupTitle, level: 1 }).waitFor();
      await tab.getByRole('img', { name: L.acct2faQr, exact: true }).waitFor();
      await tab.getByRole('heading', { name: L.acct2faStepKey, level: 2 }).waitFor();
      const shown = (await tab.getByRole('main').getByText(/^[A-Z2-7]{4}( [A-Z2-7]{4})+$/).innerText()).trim();
      assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/, `the key in groups of four: ${shown}`);
      const auth = { secret: shown.replace(/\s/g, ''), lastStep: 0 };
      await s.shot(tab, 'account-2fa-setup');
      await s.audit(tab, 'account-2fa-setup', { lang, layout: true, mobileShot: true });

      // The app's code puts it in force; the recovery codes are shown once.
      await tab.getByLabel(L.acct2faCode, { exact: true }).fill(await nextCode(auth));
      await tab.getByRole('button', { name: L.acct2faVerify, exact: true }).click();
      await tab.getByRole('heading', { name: L.acct2faCodesTitle, level: 1 }).waitFor();
      await tab.getByRole('status').filter({ hasText: L.acct2faCodesReady }).waitFor();
      const codes = await recoveryCodes(tab, L);
      await s.shot(tab, 'account-2fa-recovery-codes');
      await s.audit(tab, 'account-2fa-recovery-codes', { lang });
      await tab.getByRole('link', { name: L.acct2faContinue, exact: true }).click();

      // Account Information says it is on, with every control of the section.
      await tab.waitForURL((u) => u.pathname === '/account');
      await tab.getByRole('status').filter({ hasText: L.acct2faOnNotice }).waitFor();
      section = tab.getByRole('region', { name: L.acct2faSection, exact: true });
      await section.getByText(L.acct2faStatusOn).waitFor();
      await section.getByText(L.acct2faAppOn, { exact: true }).waitFor();
      await section.getByText(L.acct2faCodesLeft(10), { exact: true }).waitFor();
      await section.getByRole('link', { name: L.acct2faSetUp, exact: true }).waitFor();
      await section.getByRole('button', { name: L.passkeyAdd, exact: true }).waitFor();
      await section.getByRole('button', { name: L.acct2faRegenerate, exact: true }).waitFor();
      await section.getByRole('button', { name: L.acct2faTurnOff, exact: true }).waitFor();
      await section.getByText(L.passkeyNone, { exact: true }).waitFor();
      await section.scrollIntoViewIfNeeded();
      await s.shot(tab, 'account-2fa-account-information');
      await s.audit(tab, 'account-2fa-account-information', { lang, layout: true, mobileShot: true });
      await accountSignOut(tab, L);

      // The password alone no longer signs in: Two-step sign-in asks for a code.
      await accountPasswordStep(tab, site, L, account);
      await tab.getByRole('link', { name: L.acct2faUseRecovery, exact: true }).waitFor();
      assert.equal(await tab.getByRole('button', { name: L.passkeyUse }).count(), 0, 'no passkey, no Use a passkey');
      await s.shot(tab, 'account-2fa-second-step');
      await s.audit(tab, 'account-2fa-second-step', { lang, layout: true, mobileShot: true });

      // By keyboard: the code field has the focus; Tab on to Verify and back
      // (Shift+Tab), type a later step's code (the setup's is used), Enter.
      const rings = [];
      const codeField = tab.getByLabel(L.acct2faCode, { exact: true });
      await expectFocused(codeField);
      await tabTo(tab, tab.getByRole('button', { name: L.acct2faVerify, exact: true }), rings);
      await tabTo(tab, codeField, rings, { back: true });
      const signInCode = await nextCode(auth);
      await tab.keyboard.type(signInCode);
      await tab.keyboard.press('Enter');
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      await expectPortal(tab, L);
      assert.deepEqual(rings, [], 'every control on the way shows its focus ring');
      await accountSignOut(tab, L);

      // A code works once: the same one again is refused.
      s.allow(/status of 401/);
      await accountPasswordStep(tab, site, L, account);
      await tab.getByLabel(L.acct2faCode, { exact: true }).fill(signInCode);
      await tab.getByRole('button', { name: L.acct2faVerify, exact: true }).click();
      await tab.getByRole('alert').filter({ hasText: L.acct2faInvalid }).waitFor();
      assert.equal(path(tab), '/login/two-factor', 'still on the second step');
      assert.equal(await tab.getByLabel(L.acct2faCode, { exact: true }).getAttribute('aria-invalid'), 'true');

      // Use a recovery code: one of the ten signs in.
      await tab.getByRole('link', { name: L.acct2faUseRecovery, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/login/two-factor' && u.searchParams.get('method') === 'recovery');
      await tab.getByRole('heading', { name: L.acct2faTitle, level: 1 }).waitFor();
      await tab.getByRole('link', { name: L.acct2faUseApp, exact: true }).waitFor();
      await s.audit(tab, 'account-2fa-recovery', { lang });
      await tab.getByLabel(L.acct2faRecoveryCode, { exact: true }).fill(codes[0]);
      await tab.getByRole('button', { name: L.acct2faVerify, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      await expectPortal(tab, L);
      await accountSignOut(tab, L);

      // The same recovery code again: refused.
      await accountPasswordStep(tab, site, L, account);
      await tab.getByRole('link', { name: L.acct2faUseRecovery, exact: true }).click();
      await tab.waitForURL((u) => u.searchParams.get('method') === 'recovery');
      await tab.getByLabel(L.acct2faRecoveryCode, { exact: true }).fill(codes[0]);
      await tab.getByRole('button', { name: L.acct2faVerify, exact: true }).click();
      await tab.getByRole('alert').filter({ hasText: L.acct2faInvalid }).waitFor();
      assert.equal(path(tab), '/login/two-factor', 'the used recovery code does not sign in');
      assert.equal(await tab.getByLabel(L.acct2faRecoveryCode, { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.equal((await s.context.cookies(site)).some((c) => c.name === 'acct_sid'), false, 'no session');

      // Another one does; Account Information counts what is left.
      await tab.getByLabel(L.acct2faRecoveryCode, { exact: true }).fill(codes[1]);
      await tab.getByRole('button', { name: L.acct2faVerify, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      section = await openAccountInformation(tab, L);
      await section.getByText(L.acct2faCodesLeft(8), { exact: true }).waitFor();
    });
  });

  test(`account two-step sign-in (${lang}): a passkey, used with one gesture`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`account-passkey-${lang}`, { lang }, async ({ server, s, L }) => {
      const site = byName(server.accountUrl);
      const tab = await s.newPage();
      // A security key with a fingerprint reader, for this tab.
      const authenticator = await addVirtualAuthenticator(tab);
      const account = await signUp(s, tab, site, L);

      // Account Information: name the passkey, Add a passkey.
      const section = await openAccountInformation(tab, L);
      await section.getByText(L.passkeyNone, { exact: true }).waitFor();
      await section.getByLabel(L.passkeyName, { exact: true }).fill('Work laptop');
      await section.getByRole('button', { name: L.passkeyAdd, exact: true }).click();

      // The first second step: two-step sign-in is on, its recovery codes shown once, here.
      const shown = tab.getByRole('region', { name: L.acct2faCodesTitle, exact: true });
      await shown.getByText(L.passkeyCodesReady, { exact: true }).waitFor();
      await recoveryCodes(shown, L, shown.getByRole('list'));
      await expectFocused(shown.getByRole('heading', { name: L.acct2faCodesTitle, level: 2 }));
      assert.equal((await authenticator.credentials()).length, 1, 'the authenticator holds one credential');
      // (No audit on this tab while the passkey is needed: the audit's own
      // DevTools session, detached when done, takes Chromium's virtual
      // authenticators away from the page with it.)
      await s.shot(tab, 'account-passkey-added');
      await shown.getByRole('link', { name: L.acct2faContinue, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/account');
      await tab.getByRole('status').filter({ hasText: L.passkeyAddedNotice }).waitFor();
      const listed = tab.getByRole('list', { name: L.passkeysTitle, exact: true }).getByRole('listitem');
      assert.equal(await listed.count(), 1);
      await listed.filter({ hasText: 'Work laptop' }).filter({ hasText: L.passkeyNeverUsed }).waitFor();
      await accountSignOut(tab, L);

      // The password, then Use a passkey: one gesture, signed in.
      await accountPasswordStep(tab, site, L, account);
      const use = tab.getByRole('button', { name: L.passkeyUse, exact: true });
      await use.waitFor();
      // No authenticator app: a recovery code is the other way in, not an app's code.
      await tab.getByLabel(L.acct2faRecoveryCode, { exact: true }).waitFor();
      assert.equal(await tab.getByLabel(L.acct2faCode, { exact: true }).count(), 0, 'no app code asked for');
      await s.shot(tab, 'account-passkey-second-step');
      // The same page (the same pending sign-in) audited in another tab.
      const probe = await s.newPage();
      await probe.goto(tab.url());
      await probe.getByRole('button', { name: L.passkeyUse, exact: true }).waitFor();
      await s.audit(probe, 'account-passkey-second-step', { lang, layout: true });
      await probe.close();
      assert.equal((await authenticator.credentials()).length, 1, 'the authenticator is still there');
      await use.click();
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      await expectPortal(tab, L);
      const [credential] = await authenticator.credentials();
      assert.ok(credential.signCount >= 1, `the passkey signed (signCount ${credential.signCount})`);

      // Account Information lists it with the date it was last used.
      await openAccountInformation(tab, L);
      const item = tab.getByRole('list', { name: L.passkeysTitle, exact: true }).getByRole('listitem');
      await item.filter({ hasText: 'Work laptop' }).filter({ hasText: L.passkeyUsedAt }).waitFor();
      await tab.getByRole('list', { name: L.passkeysTitle, exact: true }).scrollIntoViewIfNeeded();
      await s.shot(tab, 'account-passkey-listed');
      await s.audit(tab, 'account-passkey-listed', { lang, layout: true });
    });
  });
}
