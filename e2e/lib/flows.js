// The merchant documentation's steps, as a person does them in the browser:
// found by role, label and visible text.

import assert from 'node:assert/strict';

import { KEY_RE } from './labels.js';
import { nextCode } from './totp.js';

export const KEY_NAME = 'Amazon Sales Channel';

/**
 * A new account's details. Every test has its own data dir, so the same
 * readable email is fine (it shows in screenshots); a second account in the
 * same process gets a number.
 */
let accounts = 0;
export function newAccount() {
  accounts += 1;
  return {
    name: 'Jane Merchant',
    company: 'Luma Outdoor BV',
    email: `jane${accounts > 1 ? accounts : ''}@luma-outdoor.example.com`,
    password: 'correct-horse-battery-staple',
  };
}

const path = (page) => new URL(page.url()).pathname;

/**
 * Admin: open the Admin, get the sign-in page, sign in with the password and
 * the second step (setting up the authenticator app at the first sign-in);
 * lands on the channel. With `audit`, screenshots and axe-core on each page.
 */
export async function adminSignIn(s, page, server, L, { audit = false } = {}) {
  await page.goto(server.adminUrl);
  await page.getByRole('heading', { name: L.adminLoginTitle, level: 1 }).waitFor();
  if (audit) {
    await s.shot(page, 'admin-sign-in');
    await s.audit(page, 'admin-sign-in');
  }
  await page.getByLabel(L.username, { exact: true }).fill(server.adminUser);
  await page.getByLabel(L.password, { exact: true }).fill(server.adminPassword);
  await page.getByRole('button', { name: L.adminSignIn, exact: true }).click();
  await adminSecondStep(s, page, server, L, { audit });
}

const SECOND_STEP = '/admin/login/two-factor';
const SETUP = '/admin/login/two-factor/setup';

/**
 * Admin, right after the password: the first sign-in sets up the
 * authenticator app (the key read off the setup page, the code computed as
 * an app does, the recovery codes kept on `server.adminTotp`); a later one
 * enters a code on **Two-step sign-in**. Lands on the channel.
 */
export async function adminSecondStep(s, page, server, L, { audit = false } = {}) {
  await page.waitForURL((u) => [SETUP, SECOND_STEP, '/admin/amazon'].includes(u.pathname));
  if (path(page) === SETUP) {
    await page.getByRole('heading', { name: L.twoFactorSetupTitle, level: 1 }).waitFor();
    await page.getByRole('img', { name: L.qrCode }).waitFor();
    const secret = (await page.getByLabel(L.setupKey, { exact: true }).inputValue()).replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'the setup key is base32');
    if (audit) {
      await s.shot(page, 'admin-2fa-setup');
      await s.audit(page, 'admin-2fa-setup', { mobileShot: true });
    }
    server.adminTotp = { secret, lastStep: 0 };
    await page.getByLabel(L.authCode, { exact: true }).fill(await nextCode(server.adminTotp));
    await page.getByRole('button', { name: L.verify, exact: true }).click();
    await page.getByRole('heading', { name: L.recoveryCodesTitle, level: 1 }).waitFor();
    const codes = await page.getByRole('list', { name: L.recoveryCodesList }).getByRole('listitem').allInnerTexts();
    assert.equal(codes.length, 10, 'ten recovery codes');
    server.adminTotp.recoveryCodes = codes.map((c) => c.trim());
    if (audit) {
      await s.shot(page, 'admin-2fa-recovery-codes');
      await s.audit(page, 'admin-2fa-recovery-codes');
    }
    await page.getByRole('link', { name: L.continueToAdmin, exact: true }).click();
  } else if (path(page) === SECOND_STEP) {
    await page.getByRole('heading', { name: L.twoFactorTitle, level: 1 }).waitFor();
    await page.getByRole('link', { name: L.useRecoveryCode, exact: true }).waitFor();
    if (audit) {
      await s.shot(page, 'admin-2fa-second-step');
      await s.audit(page, 'admin-2fa-second-step', { mobileShot: true });
    }
    assert.ok(server.adminTotp, 'the authenticator was set up in this test');
    await page.getByLabel(L.authCode, { exact: true }).fill(await nextCode(server.adminTotp));
    await page.getByRole('button', { name: L.verify, exact: true }).click();
  }
  await page.waitForURL((u) => u.pathname === '/admin/amazon');
}

/** Admin: Sign Out (the header's button). */
export async function adminSignOut(page, L) {
  await page.getByRole('button', { name: L.adminSignOut, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/admin/login');
}

/** Admin: Marketing > Channels > Amazon Sales Channel in the side menu. */
export async function openChannel(page, L) {
  await page
    .getByRole('navigation', { name: L.adminMenu })
    .getByRole('link', { name: L.channel, exact: true })
    .click();
  await page.waitForURL((u) => u.pathname === '/admin/amazon');
  await page.getByRole('heading', { name: L.channel, level: 1 }).waitFor();
}

/** The welcome page with the message that says why (`reason`, a RegExp). */
export async function expectWelcome(page, L, reason) {
  await page.getByRole('heading', { name: L.welcome, level: 2 }).waitFor();
  await page.getByRole('status').filter({ hasText: reason }).waitFor();
  await page.getByRole('link', { name: L.signIn, exact: true }).waitFor();
  await page.getByRole('link', { name: L.addKey, exact: true }).waitFor();
  // "It cannot be dismissed."
  assert.equal(await page.getByRole('button', { name: /close|dismiss|sluiten/i }).count(), 0);
  assert.equal(await page.getByRole('heading', { name: L.storeIntegration }).count(), 0);
}

/** Sign in: a link with target=_blank, so a new tab. */
export async function openSignInTab(s, page, L) {
  const link = page.getByRole('link', { name: L.signIn, exact: true });
  assert.equal(await link.getAttribute('target'), '_blank', 'Sign in opens a new tab');
  const [tab] = await Promise.all([s.context.waitForEvent('page'), link.click()]);
  await tab.waitForLoadState('domcontentloaded');
  return tab;
}

/** Account site: My Account with the API Portal tab current. */
export async function expectPortal(tab, L) {
  assert.equal(path(tab), '/account/api-portal');
  await tab.getByRole('heading', { name: L.myAccount, level: 1 }).waitFor();
  const current = tab.getByRole('link', { name: L.apiPortal, exact: true });
  assert.equal(await current.getAttribute('aria-current'), 'page', 'API Portal is the current tab');
  await tab.getByRole('button', { name: L.addNew }).waitFor();
}

/** Account site: the API Portal tab of My Account (not a reload: that could re-send Add New). */
export async function openPortalTab(tab, L) {
  await tab.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.apiPortal, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/account/api-portal');
  await expectPortal(tab, L);
}

/** Signed out: the site asks to sign in; choose Create account and register. */
export async function signUpFromSignIn(s, tab, L, account, { shots = true } = {}) {
  assert.equal(path(tab), '/login', 'a signed-out user is asked to sign in first');
  await tab.getByRole('heading', { name: L.accountSignInTitle, level: 1 }).waitFor();
  await tab.getByRole('status').filter({ hasText: L.toContinue }).waitFor();
  if (shots) {
    await s.shot(tab, 'account-sign-in');
    await s.audit(tab, 'account-sign-in');
  }
  // The "Create account" under the form (it keeps where to go next).
  await tab.getByRole('main').getByRole('link', { name: L.createAccount }).click();
  await tab.waitForURL((u) => u.pathname === '/signup');
  await signUpHere(s, tab, L, account, { shots });
}

/** On the Create account page: fill in and submit; lands on the API Portal. */
export async function signUpHere(s, tab, L, account, { shots = true } = {}) {
  await tab.getByRole('heading', { name: L.createAccount, level: 1 }).waitFor();
  await tab.getByLabel(L.yourName, { exact: true }).fill(account.name);
  await tab.getByLabel(L.company, { exact: true }).fill(account.company);
  await tab.getByLabel(L.email, { exact: true }).fill(account.email);
  await tab.getByLabel(L.accountPassword, { exact: true }).fill(account.password);
  if (shots) {
    await s.shot(tab, 'sign-up');
    await s.audit(tab, 'sign-up', { mobileShot: true });
  }
  await tab.getByRole('button', { name: L.createAccount, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/account/api-portal');
  await expectPortal(tab, L);
}

/** Account site: sign in on /login with an existing account. */
export async function accountSignIn(tab, accountUrl, L, account) {
  await tab.goto(`${accountUrl}/login`);
  await tab.getByLabel(L.email, { exact: true }).fill(account.email);
  await tab.getByLabel(L.accountPassword, { exact: true }).fill(account.password);
  await tab.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/account/api-portal');
}

/** API Portal: description, Production, Add New; returns the key shown once. */
export async function createKey(tab, L, name = KEY_NAME) {
  await tab.getByLabel(L.description, { exact: true }).fill(name);
  const env = tab.getByLabel(L.environment, { exact: true });
  await env.selectOption({ label: L.production });
  await tab.getByRole('button', { name: L.addNew, exact: true }).click();
  await tab.getByRole('heading', { name: L.newKeyTitle(name) }).waitFor();
  // "The new key is shown with that name": the read-only field is labelled by it
  // (in the new key's card: a Services checkbox may bear the same name).
  const field = tab.getByRole('region', { name: L.newKeyTitle(name), exact: true }).getByLabel(name, { exact: true });
  const key = await field.inputValue();
  assert.match(key, KEY_RE);
  assert.equal(await field.getAttribute('readonly'), '', 'the key field is read-only');
  // Listed with the others, as a hint only (never the secret).
  const table = tab.getByRole('table', { name: L.keysTable });
  const row = table.getByRole('row').filter({ hasText: name }).filter({ hasText: key.slice(-4) });
  await row.getByText(L.statusValid, { exact: true }).waitFor();
  assert.ok(!(await table.innerText()).includes(key), 'the key list never shows the whole key');
  return key;
}

/** Copy: the clipboard holds the key and the button says it copied. */
export async function copyKey(tab, L, key) {
  await tab.getByRole('button', { name: L.copy, exact: true }).click();
  // The label changes for 2 s, and a status line says the same.
  await tab.getByRole('button', { name: L.copied, exact: true }).waitFor({ timeout: 1_800 });
  await tab.getByRole('status').filter({ hasText: L.copied }).waitFor();
  const clip = await tab.evaluate(() => navigator.clipboard.readText());
  assert.match(clip, KEY_RE);
  assert.equal(clip, key, 'the clipboard holds the key of the field');
  return clip;
}

/**
 * API Portal, a key made with the recommended key pair: the panel says next to
 * Copy that the private key belongs in Production Private key; Copy private key
 * puts the PEM on the clipboard.
 */
export async function copyPrivateKey(tab, L) {
  const note = tab.getByText(L.signedKeyNote);
  await note.waitFor();
  // Said next to Copy: between the key's field and the private key's.
  const [noteTop, keyTop, privTop] = await Promise.all([
    note.evaluate((el) => el.getBoundingClientRect().top),
    tab.getByRole('button', { name: L.copy, exact: true }).evaluate((el) => el.getBoundingClientRect().top),
    tab.getByLabel(L.privateKeyLabel, { exact: true }).evaluate((el) => el.getBoundingClientRect().top),
  ]);
  assert.ok(keyTop < noteTop && noteTop < privTop, `the note stands by Copy (${keyTop} < ${noteTop} < ${privTop})`);
  await tab.getByRole('button', { name: L.copyPrivateKey, exact: true }).click();
  const pem = await tab.evaluate(() => navigator.clipboard.readText());
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/);
  return pem;
}

/**
 * Admin, the welcome page names the missing private key and links to its
 * field: follow it, paste, Save Config.
 */
export async function addPrivateKeyInAdmin(s, page, L, pem) {
  await page.bringToFront();
  await page.getByRole('status').filter({ hasText: L.privateKeyMissing }).waitFor();
  await page.getByRole('link', { name: L.addPrivateKey, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/admin/config/edit/section/magento_services');
  const field = page.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionPrivateKey, { exact: true });
  await field.waitFor();
  assert.ok(await field.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= -1 && r.top < window.innerHeight;
  }), 'the link scrolls to Production Private key');
  await field.fill(pem);
  await page.getByRole('button', { name: L.saveConfig, exact: true }).click();
  await page.getByRole('status').filter({ hasText: L.configSaved }).waitFor();
  assert.ok(!(await page.content()).includes(pem.split('\n')[1]), 'the private key is nowhere in the page');
}

/** Admin: Add the key → Magento Services > API Keys → paste → Save Config. */
export async function addKeyInAdmin(s, page, L, key, { shots = true } = {}) {
  await page.bringToFront();
  await page.getByRole('link', { name: L.addKey, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/admin/config/edit/section/magento_services' && u.hash === '#api_keys');
  await page.getByRole('heading', { name: L.configTitle, level: 1 }).waitFor();
  await page.getByRole('heading', { name: L.magentoServices, level: 2 }).waitFor();
  const group = page.getByRole('region', { name: L.apiKeys });
  await group.waitFor();
  const inView = await group.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= -1 && r.top < window.innerHeight;
  });
  assert.ok(inView, 'the link scrolls to the API Keys group');
  await group.getByLabel(L.productionApiKey, { exact: true }).fill(key);
  await page.getByRole('button', { name: L.saveConfig, exact: true }).click();
  await page.getByRole('status').filter({ hasText: L.configSaved }).waitFor();
  const shown = await page.getByRole('region', { name: L.apiKeys })
    .getByLabel(L.productionApiKey, { exact: true }).inputValue();
  assert.ok(shown.length > 0, 'the field shows that a key is stored');
  assert.notEqual(shown, key, 'the field shows a mask, not the key');
  assert.ok(!shown.includes(key.slice(9, -4)), `the field shows a mask, not the key: ${shown}`);
  assert.ok(!(await page.content()).includes(key), 'the saved key is nowhere in the page');
  if (shots) {
    await page.getByRole('region', { name: L.apiKeys }).scrollIntoViewIfNeeded();
    await s.shot(page, 'config-api-keys');
    await s.audit(page, 'config-api-keys', { mobileShot: true });
  }
}

/** Store Integration: the add-store form's validation messages. */
export async function addStoreValidation(s, page, L) {
  // The re-shown form answers 422; Chromium logs that as a failed resource.
  s.allow(/status of 422/);
  const form = page.getByRole('form', { name: L.addStoreTitle });
  await form.getByRole('button', { name: L.storeSubmit, exact: true }).click();
  await page.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
  await page.getByText(L.nameRequired, { exact: true }).waitFor();
  const name = form.getByLabel(L.storeName, { exact: true });
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.equal(await describedBy(name), L.nameRequired, 'the error is the field’s description');

  await name.fill('Luma US');
  await form.getByLabel(L.storeEmail, { exact: true }).fill('not-an-email');
  await form.getByRole('button', { name: L.storeSubmit, exact: true }).click();
  await page.getByText(L.emailInvalid, { exact: true }).waitFor();
  assert.equal(await page.getByText(L.nameRequired, { exact: true }).count(), 0);
  const email = form.getByLabel(L.storeEmail, { exact: true });
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.equal(await describedBy(email), L.emailInvalid);
  assert.equal(await form.getByLabel(L.storeName, { exact: true }).inputValue(), 'Luma US', 'typed values are kept');
}

async function describedBy(locator) {
  return locator.evaluate((el) => (el.getAttribute('aria-describedby') || '')
    .split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent.trim() ?? '')
    .join(' '));
}

/** Store Integration: add a store; it is listed as Authorization pending. */
export async function addStore(page, L, store) {
  const form = page.getByRole('form', { name: L.addStoreTitle });
  await form.getByLabel(L.storeName, { exact: true }).fill(store.name);
  await form.getByLabel(L.storeEmail, { exact: true }).fill(store.email);
  await form.getByLabel(L.storeWebsite, { exact: true }).selectOption({ label: L.mainWebsite });
  await form.getByLabel(L.storeMarketplace, { exact: true }).selectOption({ label: store.marketplace });
  await form.getByRole('button', { name: L.storeSubmit, exact: true }).click();
  await page.getByRole('status').filter({ hasText: L.storeSaved }).waitFor();
  const row = page.getByRole('table', { name: L.storesTable }).getByRole('row').filter({ hasText: store.name });
  await row.getByText(L.pending, { exact: true }).waitFor();
  await row.getByText(store.marketplace, { exact: true }).waitFor();
  await row.getByText(store.email, { exact: true }).waitFor();
}

/** Account site: the Members tab of My Account (the list; the owner also sees the invite form). */
export async function openMembersTab(tab, L) {
  await tab.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.members, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/account/members');
  await expectMembers(tab, L);
}

/** Account site: My Account with the Members tab current and the members table. */
export async function expectMembers(tab, L) {
  assert.equal(path(tab), '/account/members');
  await tab.getByRole('heading', { name: L.myAccount, level: 1 }).waitFor();
  const current = tab.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.members, exact: true });
  assert.equal(await current.getAttribute('aria-current'), 'page', 'Members is the current tab');
  await tab.getByRole('table', { name: L.membersTable, exact: true }).waitFor();
}

/**
 * Members (owner): invite `email` with the given role; returns the link shown
 * once in the "Invitation for …" card (no SMTP in the tests, so the page says
 * the invitation was not sent).
 */
export async function inviteMember(tab, L, email, { role = L.roleMember } = {}) {
  const form = tab.getByRole('region', { name: L.inviteTitle, exact: true });
  await form.getByLabel(L.email, { exact: true }).fill(email);
  await form.getByLabel(L.role, { exact: true }).selectOption({ label: role });
  await form.getByRole('button', { name: L.sendInvitation, exact: true }).click();
  const card = tab.getByRole('region', { name: L.invitedTitle(email), exact: true });
  await card.getByRole('heading', { name: L.invitedTitle(email), level: 2 }).waitFor();
  await card.getByRole('status').filter({ hasText: L.inviteNoSmtp }).waitFor();
  const field = card.getByLabel(L.invitationLink, { exact: true });
  assert.equal(await field.getAttribute('readonly'), '', 'the link field is read-only');
  const link = await field.inputValue();
  assert.match(link, /^https?:\/\/[^/]+\/join\/[A-Za-z0-9._~-]{20,}$/, `the invitation link: ${link}`);
  assert.equal(new URL(link).origin, new URL(tab.url()).origin, 'the link points at this site');
  assert.equal(await form.getByLabel(L.email, { exact: true }).inputValue(), '', 'the form is emptied for the next one');
  return link;
}

/** JSON API of the account service, as a script would call it. */
export async function apiSignup(accountUrl, account) {
  const res = await fetch(`${accountUrl}/api/v1/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(account),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, `signup: ${await res.clone().text()}`);
  const sid = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('acct_sid='));
  assert.ok(sid, 'signup sets acct_sid');
  return sid;
}

export async function apiCreateKey(accountUrl, cookie, body) {
  const res = await fetch(`${accountUrl}/api/v1/keys`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = await res.json();
  assert.equal(res.status, 201, `create key: ${JSON.stringify(json)}`);
  assert.match(json.key, body.environment === 'sandbox' ? /^cmk_test_[0-9A-Za-z]{36}$/ : KEY_RE);
  return json;
}

/** The Admin's own view of the key status (JSON API, with the admin session of `page`). */
export async function keyStatus(page, adminOrigin) {
  const res = await page.request.get(`${adminOrigin}/admin/api/v1/channels/amazon/key-status`, { timeout: 10_000 });
  assert.equal(res.status(), 200);
  return (await res.json()).status;
}

/** Account site: the header's Sign out; lands on the sign-in page. */
export async function accountSignOut(tab, L) {
  await tab.getByRole('navigation', { name: L.accountMenu })
    .getByRole('button', { name: L.accountSignOut, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/login');
}

/** Account site: the Account Information tab of My Account, its Two-step sign-in section. */
export async function openAccountInformation(tab, L) {
  await tab.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.accountInfo, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/account');
  await tab.getByRole('heading', { name: L.myAccount, level: 1 }).waitFor();
  const section = tab.getByRole('region', { name: L.acct2faSection, exact: true });
  await section.getByRole('heading', { name: L.acct2faSection, level: 2 }).waitFor();
  return section;
}

/**
 * Account site, an account with a second step: email and password on /login
 * → the Two-step sign-in page (no session yet).
 */
export async function accountPasswordStep(tab, accountUrl, L, account) {
  await tab.goto(`${accountUrl}/login`);
  await tab.getByLabel(L.email, { exact: true }).fill(account.email);
  await tab.getByLabel(L.accountPassword, { exact: true }).fill(account.password);
  await tab.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
  await tab.waitForURL((u) => u.pathname === '/login/two-factor');
  await tab.getByRole('heading', { name: L.acct2faTitle, level: 1 }).waitFor();
}
