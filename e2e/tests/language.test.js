// The language switchers ("Language" / "Taal") of both sites: they switch at
// once and the choice is remembered.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  accountSignIn, adminSecondStep, expectPortal, expectWelcome, newAccount, signUpHere,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { LABELS } from '../lib/labels.js';
import { Session } from '../lib/browser.js';

const EN = LABELS.en;
const NL = LABELS.nl;

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);

test('Admin language switcher: English → Nederlands → English, remembered across pages', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('language-admin', {}, async ({ server, s }) => {
    const page = await s.newPage();
    await page.goto(server.adminUrl);
    await page.getByRole('heading', { name: EN.adminLoginTitle, level: 1 }).waitFor();

    // The switcher submits on change (its Apply button is only for no-JS).
    await page.getByLabel(EN.language, { exact: true }).selectOption({ label: 'Nederlands' });
    await page.getByRole('heading', { name: NL.adminLoginTitle, level: 1 }).waitFor();
    assert.equal(await htmlLang(page), 'nl');
    await s.audit(page, 'admin-sign-in-nl', { lang: 'nl' });

    // Remembered: a reload and the sign-in stay Dutch.
    await page.reload();
    await page.getByRole('heading', { name: NL.adminLoginTitle, level: 1 }).waitFor();
    await page.getByLabel(NL.username, { exact: true }).fill(server.adminUser);
    await page.getByLabel(NL.password, { exact: true }).fill(server.adminPassword);
    await page.getByRole('button', { name: NL.adminSignIn, exact: true }).click();
    // The authenticator app set up, in Dutch.
    await adminSecondStep(s, page, server, NL);
    await expectWelcome(page, NL, NL.missing);
    await page.getByRole('navigation', { name: NL.adminMenu }).getByRole('link', { name: NL.configTitle, exact: true }).click();
    await page.getByRole('heading', { name: NL.configTitle, level: 1 }).waitFor();
    const selected = await page.getByLabel(NL.language, { exact: true }).evaluate((el) => el.selectedOptions[0].textContent);
    assert.equal(selected, 'Nederlands', 'the switcher shows the current language');

    // And back, from the page the merchant is on (stays on that page).
    await page.getByLabel(NL.language, { exact: true }).selectOption({ label: 'English' });
    await page.getByRole('heading', { name: EN.configTitle, level: 1 }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/admin\/config\//);
    const other = await s.newPage();
    await other.goto(`${new URL(server.adminUrl).origin}/admin/amazon`);
    await expectWelcome(other, EN, EN.missing);
    assert.equal(await htmlLang(other), 'en');
  });
});

test('account site language switcher: switches, and the account remembers it', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('language-account', {}, async ({ server, s, dir }) => {
    const account = newAccount();
    const page = await s.newPage();
    await page.goto(`${server.accountUrl}/signup`);
    await signUpHere(s, page, EN, account, { shots: false });

    // Signed in, on the API Portal: switch to Nederlands.
    await page.getByLabel(EN.language, { exact: true }).selectOption({ label: 'Nederlands' });
    await page.getByRole('heading', { name: NL.myAccount, level: 1 }).waitFor();
    await expectPortal(page, NL);
    assert.equal(await htmlLang(page), 'nl');
    await s.shot(page, 'api-portal-nl');
    await s.audit(page, 'api-portal-nl', { lang: 'nl' });
    await page.reload();
    await expectPortal(page, NL);

    // Another browser (English, no cookies): after signing in, the account's choice wins.
    const s2 = await Session.open(s.context.browser(), dir, { locale: 'en-US' });
    try {
      const fresh = await s2.newPage();
      await accountSignIn(fresh, server.accountUrl, EN, account);
      await expectPortal(fresh, NL);
      assert.equal(await htmlLang(fresh), 'nl');

      // Switch back to English there.
      await fresh.getByLabel(NL.language, { exact: true }).selectOption({ label: 'English' });
      await expectPortal(fresh, EN);
      await s2.assertClean();
    } finally {
      await s2.close();
    }
  });
});
