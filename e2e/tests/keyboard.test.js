// The merchant's walk by keyboard alone (Tab, Shift+Tab, Enter, Space, typing;
// no click anywhere), every focused control showing a visible focus ring; and
// the Admin menu behind its button on a phone, by keyboard.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MOBILE } from '../lib/browser.js';
import { KEY_NAME, adminSecondStep, newAccount } from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { expectFocused, tabTo } from '../lib/keyboard.js';
import { KEY_RE } from '../lib/labels.js';
import { nextCode } from '../lib/totp.js';

const path = (page) => new URL(page.url()).pathname;

test('keyboard only: Admin → Sign in → sign up → API Portal Add New → Copy → Add the key → Save Config → Store Integration', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('keyboard', {}, async ({ server, s, L }) => {
    const rings = [];
    const kb = (page) => page.keyboard;

    // The Admin's sign-in: the username field has the focus.
    const admin = await s.newPage();
    await admin.goto(server.adminUrl);
    await expectFocused(admin.getByLabel(L.username, { exact: true }));
    await kb(admin).type(server.adminUser);
    await tabTo(admin, admin.getByLabel(L.password, { exact: true }), rings);
    await kb(admin).type(server.adminPassword);
    await kb(admin).press('Enter');

    // The first sign-in sets up the authenticator app, by keyboard too: the
    // key is read off the page (as a person types it into the app), the
    // code typed into Authentication code, Enter; then the recovery codes
    // and Continue to the Admin.
    await admin.waitForURL((u) => u.pathname === '/admin/login/two-factor/setup');
    const secret = (await admin.getByLabel(L.setupKey, { exact: true }).inputValue()).replace(/\s/g, '');
    const auth = { secret, lastStep: 0 };
    await tabTo(admin, admin.getByLabel(L.authCode, { exact: true }), rings);
    await kb(admin).type(await nextCode(auth));
    await kb(admin).press('Enter');
    await admin.getByRole('heading', { name: L.recoveryCodesTitle, level: 1 }).waitFor();
    await tabTo(admin, admin.getByRole('link', { name: L.continueToAdmin, exact: true }), rings);
    await kb(admin).press('Enter');
    await admin.waitForURL((u) => u.pathname === '/admin/amazon');
    await admin.getByRole('heading', { name: L.welcome, level: 2 }).waitFor();

    // Sign in: Enter on the link opens the account site in a new tab.
    await tabTo(admin, admin.getByRole('link', { name: L.signIn, exact: true }), rings);
    await s.shot(admin, 'focus-sign-in');
    const [tab] = await Promise.all([s.context.waitForEvent('page'), kb(admin).press('Enter')]);
    await tab.waitForLoadState('domcontentloaded');
    assert.equal(path(tab), '/login');
    await tab.getByRole('heading', { name: L.accountSignInTitle, level: 1 }).waitFor();

    // No account yet: Create account, fill in, Enter.
    await tabTo(tab, tab.getByRole('main').getByRole('link', { name: L.createAccount }), rings);
    await kb(tab).press('Enter');
    await tab.waitForURL((u) => u.pathname === '/signup');
    const account = newAccount();
    for (const [label, value] of [[L.yourName, account.name], [L.company, account.company], [L.email, account.email], [L.accountPassword, account.password]]) {
      await tabTo(tab, tab.getByLabel(label, { exact: true }), rings);
      await kb(tab).type(value);
    }
    await tabTo(tab, tab.getByRole('button', { name: L.createAccount, exact: true }), rings);
    await s.shot(tab, 'focus-create-account');
    await kb(tab).press('Enter');
    await tab.waitForURL((u) => u.pathname === '/account/api-portal');

    // API Portal: description, Production (the default), Add New by Space.
    await tabTo(tab, tab.getByLabel(L.description, { exact: true }), rings);
    await kb(tab).type(KEY_NAME);
    await tabTo(tab, tab.getByLabel(L.environment, { exact: true }), rings);
    assert.equal(await tab.getByLabel(L.environment, { exact: true }).inputValue(), 'production');
    await tabTo(tab, tab.getByRole('button', { name: L.addNew, exact: true }), rings);
    await kb(tab).press('Space');
    await tab.getByRole('heading', { name: L.newKeyTitle(KEY_NAME) }).waitFor();

    // Copy, by Enter.
    await tabTo(tab, tab.getByRole('button', { name: L.copy, exact: true }), rings);
    await s.shot(tab, 'focus-copy');
    await kb(tab).press('Enter');
    await tab.getByRole('status').filter({ hasText: L.copied }).waitFor();
    const key = await tab.evaluate(() => navigator.clipboard.readText());
    assert.match(key, KEY_RE);
    // The recommended key pair: Copy private key, by Enter.
    await tabTo(tab, tab.getByRole('button', { name: L.copyPrivateKey, exact: true }), rings);
    await kb(tab).press('Enter');
    await tab.getByRole('status').filter({ hasText: L.copied }).nth(0).waitFor();
    const pem = await tab.evaluate(() => navigator.clipboard.readText());
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);

    // Back in the Admin (its tab): Add the key, paste into Production Api key, Save Config.
    await admin.bringToFront();
    await tabTo(admin, admin.getByRole('link', { name: L.addKey, exact: true }), rings);
    await kb(admin).press('Enter');
    await admin.waitForURL((u) => u.pathname === '/admin/config/edit/section/magento_services');
    const field = admin.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionApiKey, { exact: true });
    await tabTo(admin, field, rings);
    await kb(admin).press('ControlOrMeta+V');
    if ((await field.inputValue()) !== key) {
      // Headless Chromium without a system clipboard: type what Copy put there.
      await kb(admin).press('ControlOrMeta+A');
      await kb(admin).type(key);
    }
    assert.equal(await field.inputValue(), key);
    // And its private key into Production Private key.
    const privateField = admin.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionPrivateKey, { exact: true });
    await tabTo(admin, privateField, rings);
    await admin.keyboard.insertText(pem);
    assert.equal((await privateField.inputValue()).trim(), pem.trim());
    await tabTo(admin, admin.getByRole('button', { name: L.saveConfig, exact: true }), rings, { back: true });
    await s.shot(admin, 'focus-save-config');
    await kb(admin).press('Enter');
    await admin.getByRole('status').filter({ hasText: L.configSaved }).waitFor();

    // Marketing > Channels > Amazon Sales Channel in the menu: Store Integration.
    const menuLink = admin.getByRole('navigation', { name: L.adminMenu }).getByRole('link', { name: L.channel, exact: true });
    await tabTo(admin, menuLink, rings);
    await kb(admin).press('Enter');
    await admin.waitForURL((u) => u.pathname === '/admin/amazon');
    await admin.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
    await tabTo(admin, admin.getByLabel(L.storeName, { exact: true }), rings);
    await s.shot(admin, 'focus-store-integration');

    assert.deepEqual(rings, [], `controls without a visible focus ring:\n  - ${rings.join('\n  - ')}`);
  });
});

test('phone (390 px): the Admin menu collapses behind its Menu button, opened and closed by keyboard', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('keyboard-menu', {}, async ({ server, s, L }) => {
    const rings = [];
    const page = await s.newPage();
    await page.setViewportSize(MOBILE);
    await page.goto(server.adminUrl);
    await page.getByLabel(L.username, { exact: true }).fill(server.adminUser);
    await page.getByLabel(L.password, { exact: true }).fill(server.adminPassword);
    await page.keyboard.press('Enter');
    await adminSecondStep(s, page, server, L);

    const nav = page.getByRole('navigation', { name: L.adminMenu });
    const button = nav.getByRole('button', { name: L.menuButton, exact: true });
    const link = nav.getByRole('link', { name: L.configTitle, exact: true });
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.equal(await link.isVisible(), false, 'the menu is collapsed');
    await s.shot(page, 'menu-closed-390px');

    await tabTo(page, button, rings);
    await page.keyboard.press('Enter');
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    await link.waitFor({ state: 'visible' });
    await s.shot(page, 'menu-open-390px');
    await tabTo(page, link, rings);
    await page.keyboard.press('Escape');
    assert.equal(await button.getAttribute('aria-expanded'), 'false', 'Escape closes the menu');
    assert.ok(await button.evaluate((el) => el === document.activeElement), 'the focus goes back to the button');
    await link.waitFor({ state: 'hidden' });

    await page.keyboard.press('Space');
    await link.waitFor({ state: 'visible' });
    await tabTo(page, link, rings);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/admin/config/'));
    await page.getByRole('heading', { name: L.configTitle, level: 1 }).waitFor();
    assert.equal(await nav.getByRole('button', { name: L.menuButton, exact: true }).getAttribute('aria-expanded'), 'false', 'closed again on the next page');

    // Wider, the button is gone and the menu always shown.
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.equal(await button.isVisible(), false);
    await link.waitFor({ state: 'visible' });

    assert.deepEqual(rings, [], `controls without a visible focus ring:\n  - ${rings.join('\n  - ')}`);
  });
});
