// Forgot your password?: on the sign-in page, a person asks for a link by
// email; with no SMTP in the tests the link waits in the company's Messages
// (read there by the owner's other browser); the link's page sets a new
// password, every browser of the account is signed out, and the new password
// signs in. The used link then answers 410 with its own page. In English and
// in Dutch (by the labels of lib/labels.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectPortal, newAccount, signUpHere } from '../lib/flows.js';
import { Session } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

const path = (page) => new URL(page.url()).pathname;
const NEW_PASSWORD = 'a-brand-new-passphrase-42';

/** The newest reset link on the Messages page (it is written just after the answer). */
async function resetLinkFromMessages(page, accountUrl) {
  for (let i = 0; i < 20; i += 1) {
    await page.goto(`${accountUrl}/account/outbox`);
    const text = await page.getByRole('main').innerText();
    const links = text.match(/https?:\/\/\S+\/password-reset\/[A-Za-z0-9_.-]+/g);
    if (links) return links[0];
    await page.waitForTimeout(250);
  }
  throw new Error('no reset link in Messages');
}

for (const lang of ['en', 'nl']) {
  test(`password reset (${lang}): Forgot your password? → the link → a new password → sign in`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`password-reset-${lang}`, { lang }, async ({ server, s, L, dir }) => {
      const account = newAccount();
      const site = await s.newPage();
      await site.goto(`${server.accountUrl}/signup`);
      await signUpHere(s, site, L, account, { shots: false });

      // Another browser, signed out, forgot the password.
      const s2 = await Session.open(s.context.browser(), dir, { locale: L.locale });
      s2.shot = (page, name) => s.shot(page, name);
      try {
        const them = await s2.newPage();
        await them.goto(`${server.accountUrl}/login`);
        await them.getByRole('link', { name: L.forgotPassword, exact: true }).click();
        await them.waitForURL((u) => u.pathname === '/password-reset');
        await them.getByRole('heading', { name: L.forgotPassword, level: 1 }).waitFor();
        await s2.audit(them, 'password-reset-ask', { lang, layout: true });
        await them.getByLabel(L.email, { exact: true }).fill(account.email);
        await them.getByRole('button', { name: L.sendResetLink, exact: true }).click();
        await them.getByText(L.resetSent).waitFor();
        await s2.shot(them, 'password-reset-sent');

        // The mailed link, as the Messages page shows it without SMTP.
        const link = await resetLinkFromMessages(site, server.accountUrl);
        assert.ok(link.startsWith(server.accountUrl), `the link points at the site: ${link}`);

        await them.goto(link);
        await them.getByRole('heading', { name: L.newPasswordTitle, level: 1 }).waitFor();
        await s2.audit(them, 'password-reset-new', { lang, layout: true });
        await them.getByLabel(L.newPassword, { exact: true }).fill(NEW_PASSWORD);
        await them.getByRole('button', { name: L.setNewPassword, exact: true }).click();
        await them.waitForURL((u) => u.pathname === '/login');
        await them.getByText(L.resetDone).waitFor();
        await s2.shot(them, 'password-reset-done');

        // The new password signs in.
        await them.getByLabel(L.email, { exact: true }).fill(account.email);
        await them.getByLabel(L.accountPassword, { exact: true }).fill(NEW_PASSWORD);
        await them.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
        await them.waitForURL((u) => u.pathname === '/account/api-portal');
        await expectPortal(them, L);

        // The used link has its own page.
        s2.allow(/status of 410/);
        await them.goto(link);
        await them.getByRole('heading', { name: L.resetLinkGone, level: 1 }).waitFor();
        await s2.assertClean();
      } finally {
        await s2.close();
      }

      // The owner's first browser was signed out by the reset.
      await site.goto(`${server.accountUrl}/account/api-portal`);
      await site.waitForURL((u) => u.pathname === '/login');
      assert.equal(path(site), '/login');
    });
  });
}
