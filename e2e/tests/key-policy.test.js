// Key policy (SPEC §10) in English and Dutch, with `commerce serve --service
// billing=Billing`: Add New with the services and allowed IP addresses (its
// errors beside the fields first) → a key for Billing only, from two
// addresses, stored in the Admin → the channel page explains each refusal
// (addresses are checked before services): not from this address; then,
// 127.0.0.1 added on the key's Settings page, not for this service; Amazon
// Sales Channel checked (by keyboard) → Store Integration; Disable key → disabled; Enable
// key → Store Integration again. Then the owner's Maximum key lifetime on
// Members and the expiries Add New offers within it. axe-core and the layout
// checks at 1280 and 390 px on the Add New form with errors, the Settings
// page and Members with the lifetime setting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import {
  addKeyInAdmin, adminSignIn, expectPortal, expectWelcome, keyStatus, newAccount, openChannel, openMembersTab,
  openPortalTab, openSignInTab, signUpFromSignIn,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { tabTo } from '../lib/keyboard.js';
import { catalogText, KEY_RE } from '../lib/labels.js';

const KEY = 'Luma billing';

/** The Admin's sentence for a refusal (crates/admin/locales `reason.CODE`). */
function reasonText(lang, code) {
  const text = catalogText('admin', lang, `reason.${code}`);
  assert.ok(text, `the Admin's catalog has reason.${code} (${lang})`);
  return text;
}

/**
 * Admin: opens the Amazon Sales Channel until it shows `want` (the code of a
 * refusal, shown with its data-reason and sentence, or 'valid': Store
 * Integration); a change reaches the check within a second or two.
 */
async function channelShows(s, admin, L, lang, want, origins) {
  await admin.bringToFront();
  const deadline = Date.now() + 10_000;
  for (;;) {
    await openChannel(admin, L);
    const shown = want === 'valid'
      ? admin.getByRole('heading', { name: L.storeIntegration, level: 2 })
      : admin.getByRole('status').filter({ has: admin.locator(`[data-reason="${want}"]`) });
    if (await shown.count()) break;
    if (Date.now() > deadline) {
      await s.shot(admin, `channel-not-${want}`);
      const text = (await admin.getByRole('main').innerText()).replace(/\s+/g, ' ').slice(0, 400);
      throw new Error(`the channel page does not show ${want}: ${text}`);
    }
    await delay(500);
  }
  if (want === 'valid') {
    assert.equal(await keyStatus(admin, origins.admin), 'valid');
    return;
  }
  const sentence = reasonText(lang, want);
  await expectWelcome(admin, L, sentence);
  assert.equal(await keyStatus(admin, origins.admin), 'invalid', `${want} is reported as invalid`);
}

/** The description of a field: the texts its aria-describedby names. */
async function describedBy(locator) {
  return locator.evaluate((el) => (el.getAttribute('aria-describedby') || '')
    .split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent.trim() ?? '')
    .join(' '));
}

for (const lang of ['en', 'nl']) {
  test(`key policy (${lang}): services and addresses on Add New and Settings, the channel's reasons, disable/enable, the maximum lifetime`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`key-policy-${lang}`, { lang, layout: true, serveArgs: ['--service', 'billing=Billing'] }, async ({ server, s, L, origins }) => {
      // Re-shown forms answer 422.
      s.allow(/status of 422/);
      const admin = await s.newPage();
      await adminSignIn(s, admin, server, L);
      await openChannel(admin, L);
      await expectWelcome(admin, L, L.missing);
      const tab = await openSignInTab(s, admin, L);
      await signUpFromSignIn(s, tab, L, newAccount(), { shots: false });

      // Add New: every service checked at first, no address; then errors.
      const services = tab.getByRole('group', { name: L.servicesGroup, exact: true });
      const amazon = services.getByRole('checkbox', { name: L.amazonService, exact: true });
      const billing = services.getByRole('checkbox', { name: L.billingService, exact: true });
      assert.ok(await amazon.isChecked() && await billing.isChecked(), 'every service is checked at first');
      const ips = tab.getByLabel(L.allowedIps, { exact: true });
      assert.equal(await ips.inputValue(), '');
      await tab.getByLabel(L.description, { exact: true }).fill(KEY);
      await amazon.uncheck();
      await billing.uncheck();
      await ips.fill('203.0.113.7\nnot-an-address');
      await tab.getByRole('radio', { name: L.signingNone, exact: true }).check();
      await tab.getByRole('button', { name: L.addNew, exact: true }).click();
      await tab.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
      const ipsAgain = tab.getByLabel(L.allowedIps, { exact: true });
      assert.equal(await ipsAgain.getAttribute('aria-invalid'), 'true');
      assert.match(await describedBy(ipsAgain), L.allowedIpError, 'the address error is the field’s description');
      assert.equal(await ipsAgain.inputValue(), '203.0.113.7\nnot-an-address', 'what was typed is kept');
      assert.ok((await describedBy(services)).includes(L.servicesError), 'the services error is the group’s description');
      assert.ok(!(await amazon.isChecked()) && !(await billing.isChecked()), 'the boxes stay as they were sent');
      await s.shot(tab, 'add-new-errors');
      await s.audit(tab, 'add-new-errors', { lang, mobileShot: true });

      // Billing only, from 203.0.113.7 and 2001:db8::/32.
      await billing.check();
      await ipsAgain.fill('203.0.113.7\n2001:db8::/32');
      await tab.getByRole('button', { name: L.addNew, exact: true }).click();
      await tab.getByRole('heading', { name: L.newKeyTitle(KEY) }).waitFor();
      const key = await tab.getByRole('region', { name: L.newKeyTitle(KEY), exact: true }).getByLabel(KEY, { exact: true }).inputValue();
      assert.match(key, KEY_RE);
      const table = tab.getByRole('table', { name: L.keysTable });
      const row = table.getByRole('row').filter({ hasText: KEY });
      await row.getByText(L.servicesOnly(L.billingService), { exact: true }).waitFor();
      await row.getByText(L.allowedAddresses(2), { exact: true }).waitFor();
      await row.getByText(L.statusValid, { exact: true }).waitFor();
      await s.shot(tab, 'api-portal-limited-key');

      // Stored in the Admin: addresses are checked first, so: not from this address.
      await addKeyInAdmin(s, admin, L, key, { shots: false });
      await channelShows(s, admin, L, lang, 'ip_not_allowed', origins);
      await s.shot(admin, 'channel-ip-not-allowed');

      // Settings: 127.0.0.1 added, so the address passes: not for this service.
      await tab.bringToFront();
      await openPortalTab(tab, L);
      await table.getByRole('link', { name: L.keySettingsLink(KEY), exact: true }).click();
      await tab.waitForURL((u) => /^\/account\/api-portal\/keys\/[^/]+\/settings$/.test(u.pathname));
      await tab.getByRole('heading', { name: L.keySettingsHeading(KEY), level: 1 }).waitFor();
      const settingsIps = tab.getByLabel(L.allowedIps, { exact: true });
      assert.equal(await settingsIps.inputValue(), '203.0.113.7\n2001:db8::/32');
      const settingsServices = tab.getByRole('group', { name: L.servicesGroup, exact: true });
      const settingsAmazon = settingsServices.getByRole('checkbox', { name: L.amazonService, exact: true });
      assert.equal(await settingsAmazon.isChecked(), false);
      assert.equal(await settingsServices.getByRole('checkbox', { name: L.billingService, exact: true }).isChecked(), true);
      await s.shot(tab, 'key-settings');
      await s.audit(tab, 'key-settings', { lang, mobileShot: true });
      await settingsIps.fill('203.0.113.7\n2001:db8::/32\n127.0.0.1');
      await tab.getByRole('button', { name: L.keySettingsSave, exact: true }).click();
      await tab.getByRole('status').filter({ hasText: L.keySettingsSaved }).waitFor();
      await channelShows(s, admin, L, lang, 'insufficient_scope', origins);
      await s.shot(admin, 'channel-insufficient-scope');

      // Amazon Sales Channel checked, by keyboard (Tab, Space, Tab, Enter; a
      // focus ring on every control on the way): valid, Store Integration.
      await tab.bringToFront();
      const rings = [];
      await tabTo(tab, settingsAmazon, rings);
      await tab.keyboard.press('Space');
      assert.equal(await settingsAmazon.isChecked(), true, 'Space checks the box');
      await tabTo(tab, tab.getByRole('button', { name: L.keySettingsSave, exact: true }), rings);
      await tab.keyboard.press('Enter');
      await tab.getByRole('status').filter({ hasText: L.keySettingsSaved }).waitFor();
      assert.deepEqual(rings, [], 'every control focused shows its focus ring');
      await channelShows(s, admin, L, lang, 'valid', origins);

      // Disable key (reversible, unlike revoking), then Enable key.
      await tab.bringToFront();
      await tab.getByRole('button', { name: L.disableKey, exact: true }).click();
      await tab.getByRole('status').filter({ hasText: L.keyDisabledNotice }).waitFor();
      await tab.getByText(L.statusDisabled, { exact: true }).waitFor();
      await s.shot(tab, 'key-settings-disabled');
      await s.audit(tab, 'key-settings-disabled', { lang });
      await tab.getByRole('link', { name: L.keySettingsBack, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      await expectPortal(tab, L);
      await row.getByText(L.statusDisabled, { exact: true }).waitFor();
      await channelShows(s, admin, L, lang, 'key_disabled', origins);
      await s.shot(admin, 'channel-key-disabled');
      await tab.bringToFront();
      await table.getByRole('link', { name: L.keySettingsLink(KEY), exact: true }).click();
      await tab.getByRole('button', { name: L.enableKey, exact: true }).click();
      await tab.getByRole('status').filter({ hasText: L.keyEnabledNotice }).waitFor();
      await channelShows(s, admin, L, lang, 'valid', origins);

      // The owner's maximum key lifetime on Members: an error, then 60 days.
      await tab.bringToFront();
      await tab.getByRole('link', { name: L.keySettingsBack, exact: true }).click();
      await tab.waitForURL((u) => u.pathname === '/account/api-portal');
      await openMembersTab(tab, L);
      const lifetime = tab.getByRole('region', { name: L.lifetimeTitle, exact: true });
      await lifetime.getByLabel(L.lifetimeLabel, { exact: true }).fill('soon');
      await lifetime.getByRole('button', { name: L.lifetimeSave, exact: true }).click();
      await tab.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
      const days = tab.getByRole('region', { name: L.lifetimeTitle, exact: true }).getByLabel(L.lifetimeLabel, { exact: true });
      assert.equal(await days.getAttribute('aria-invalid'), 'true');
      assert.match(await describedBy(days), L.lifetimeError);
      await s.shot(tab, 'members-lifetime-error');
      await s.audit(tab, 'members-lifetime-error', { lang, mobileShot: true });
      await days.fill('60');
      await tab.getByRole('button', { name: L.lifetimeSave, exact: true }).click();
      await tab.getByRole('status').filter({ hasText: L.lifetimeSet }).waitFor();
      await s.audit(tab, 'members-lifetime', { lang });

      // Add New offers only expiries within 60 days, and says so.
      await openPortalTab(tab, L);
      const expiry = tab.getByLabel(L.expires, { exact: true });
      const offered = (await expiry.locator('option').allTextContents()).map((t) => t.trim());
      assert.ok(offered.includes(L.expiryMax(60)), `the maximum is offered: ${offered}`);
      assert.ok(!offered.includes(L.expiryNever), `no "never": ${offered}`);
      assert.equal(offered.length, 3, `30 days, the maximum and a date: ${offered}`);
      assert.equal((await expiry.locator('option:checked').textContent()).trim(), L.expiryMax(60));
      assert.ok((await describedBy(expiry)).includes(L.lifetimeHint(60)), 'the hint is the choice’s description');
      await s.shot(tab, 'add-new-within-lifetime');
      await s.audit(tab, 'add-new-within-lifetime', { lang });
    });
  });
}
