// axe-core (WCAG 2.1 A/AA, serious and critical fail) and the layout checks
// (no overflow at 390 and 1280 px, tables as cards) on the pages and states
// tests/pages.test.js does not reach: signed out with errors, empty lists,
// form errors, every My Account tab and Account Information, the confirmation
// pages, invitations, Forgot your password? and its refused links, the Admin's
// Account Setting,
// the Admin's audit log and a config error, the not-found pages. Together
// the two files visit every page of both UIs, in English and Dutch.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addStore, KEY_NAME, adminSignIn, apiCreateKey, apiSignup, expectPortal, expectWelcome, inviteMember,
  newAccount, openMembersTab, signUpHere,
} from '../lib/flows.js';
import { Session } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

const KINDS = ['axe', 'names', 'structure', 'overflow', 'hidden', 'browser'];

async function api(url, method, cookie, body) {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', Cookie: cookie },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

for (const lang of ['en', 'nl']) {
  test(`every page (${lang}): axe-core and layout in the states pages.test.js leaves out`, { timeout: TEST_TIMEOUT }, async (t) => {
    await withWorld(`every-page-${lang}`, { lang, layout: true }, async ({ server, s, L, origins }) => {
      const page = await s.newPage();
      const found = Object.fromEntries(KINDS.map((k) => [k, []]));
      const h1 = () => page.getByRole('heading', { level: 1 }).first().waitFor();

      const visit = async (label, open, { shot = false } = {}) => {
        await open();
        if (shot) await s.shot(page, label);
        for (const f of await s.audit(page, label, { lang, mobileShot: shot })) found[f.kind].push(f.text);
        const audited = new Set(Object.values(found).flat());
        found.browser.push(...(await s.takeProblems()).filter((p) => !audited.has(p)));
      };
      // Re-shown forms answer 422, wrong passwords 401, unknown pages 404 and used links 410.
      s.allow(/status of (401|404|410|422)/);

      // Signed out: errors of both sign-in pages and of Create account.
      await visit('admin-sign-in-failed', async () => {
        await page.goto(server.adminUrl);
        await page.getByLabel(L.username, { exact: true }).fill(server.adminUser);
        await page.getByLabel(L.password, { exact: true }).fill('not-the-password');
        await page.getByRole('button', { name: L.adminSignIn, exact: true }).click();
        await page.getByRole('alert').filter({ hasText: L.adminLoginFailed }).waitFor();
      });
      await visit('account-home', async () => {
        await page.goto(`${origins.account}/`);
        await h1();
      });
      await visit('account-sign-in-failed', async () => {
        await page.goto(`${origins.account}/login`);
        await page.getByLabel(L.email, { exact: true }).fill('nobody@example.com');
        await page.getByLabel(L.accountPassword, { exact: true }).fill('wrong-password-here');
        await page.getByRole('main').getByRole('button', { name: L.accountSignInButton, exact: true }).click();
        await page.getByRole('alert').filter({ hasText: L.loginFailed }).waitFor();
      });
      await visit('account-sign-up-errors', async () => {
        await page.goto(`${origins.account}/signup`);
        await page.getByRole('button', { name: L.createAccount, exact: true }).click();
        await page.getByRole('alert').first().waitFor();
      });
      await visit('account-not-found', async () => {
        const res = await page.goto(`${origins.account}/no-such-page`);
        assert.equal(res.status(), 404);
      });

      // Signed in: the empty API Portal, its form errors, a key's pages.
      const owner = newAccount();
      await page.goto(`${origins.account}/signup`);
      await signUpHere(s, page, L, owner, { shots: false });
      await visit('account-api-portal-empty', async () => {
        await expectPortal(page, L);
      }, { shot: true });
      await visit('account-api-portal-errors', async () => {
        await page.getByRole('button', { name: L.addNew, exact: true }).click();
        await page.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
      });
      const sid = (await s.context.cookies(origins.account)).find((c) => c.name === 'acct_sid');
      const cookie = `acct_sid=${sid.value}`;
      const key = await apiCreateKey(origins.account, cookie, { name: KEY_NAME });
      await visit('account-roll-confirm', async () => {
        await page.goto(`${origins.account}/account/api-portal/keys/${key.id}/roll`);
        await h1();
      });
      await visit('account-public-key', async () => {
        await page.goto(`${origins.account}/account/api-portal/keys/${key.id}/public-key`);
        await h1();
      });
      await visit('account-key-settings', async () => {
        await page.goto(`${origins.account}/account/api-portal/keys/${key.id}/settings`);
        await h1();
      });

      // Members: alone with nothing pending, then an invitation, then a colleague.
      await visit('account-members-alone', async () => {
        await page.goto(`${origins.account}/account/api-portal`);
        await openMembersTab(page, L);
        await page.getByText(L.noPending, { exact: true }).waitFor();
      });
      let link;
      await visit('account-members-invited', async () => {
        link = await inviteMember(page, L, 'pat@luma-outdoor.example.com');
      }, { shot: true });
      const colleague = { name: 'Sam Colleague', email: 'sam@luma-outdoor.example.com', password: 'another-long-passphrase', company: 'Sam Ltd' };
      const invited = await api(`${origins.account}/api/v1/invitations`, 'POST', cookie, { email: colleague.email, role: 'member' });
      const theirs = await apiSignup(origins.account, colleague);
      await api(`${origins.account}/api/v1/invitations/accept`, 'POST', theirs, { token: new URL(invited.url).pathname.split('/').pop() });
      const { members } = await api(`${origins.account}/api/v1/members`, 'GET', cookie);
      const sam = members.find((m) => m.email === colleague.email);
      assert.ok(sam, 'the colleague joined');
      await visit('account-members-two', async () => {
        await page.goto(`${origins.account}/account/members`);
        await page.getByRole('link', { name: L.removeMemberLink(colleague.email), exact: true }).waitFor();
      }, { shot: true });
      await visit('account-remove-member-confirm', async () => {
        await page.goto(`${origins.account}/account/members/${sam.id}/remove`);
        await page.getByRole('heading', { name: L.removeMemberHeading(colleague.name), level: 1 }).waitFor();
      });
      await visit('account-audit', async () => {
        await page.goto(`${origins.account}/account/audit`);
        await page.getByRole('table').first().waitFor();
      }, { shot: true });
      await visit('account-outbox', async () => {
        await page.goto(`${origins.account}/account/outbox`);
        await h1();
      });
      await visit('account-information', async () => {
        await page.goto(`${origins.account}/account`);
        await h1();
      }, { shot: true });
      // Companies (shared access) and an owner's Close company page, with a
      // wrong name typed (nothing is closed).
      await visit('account-companies', async () => {
        await page.goto(`${origins.account}/account/companies`);
        await h1();
      });
      await visit('account-close-company-refused', async () => {
        await page.goto(`${origins.account}/account/companies`);
        await page.getByRole('link', { name: L.closeCompanyLabel(owner.company), exact: true }).click();
        await page.getByLabel(L.closeCompanyConfirm, { exact: true }).fill('not its name');
        await page.getByRole('button', { name: L.closeCompany, exact: true }).click();
        await page.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
      }, { shot: true });
      // Change the email (the current password asked), then cancel it from
      // the old address's link (read on the outbox page): its page and its end.
      await visit('account-email-change-asked', async () => {
        await page.goto(`${origins.account}/account`);
        await page.getByLabel(L.email, { exact: true }).fill('new-owner@luma-outdoor.example.com');
        await page.getByLabel(L.profilePassword, { exact: true }).fill(owner.password);
        await page.getByRole('button', { name: L.profileSave, exact: true }).click();
        await page.getByRole('status').filter({ hasText: L.emailChangeSent }).waitFor();
      });
      await visit('account-cancel-email-change', async () => {
        await page.goto(`${origins.account}/account/outbox`);
        const cancel = (await page.content()).match(/\/cancel-email-change\/[A-Za-z0-9._-]+/);
        assert.ok(cancel, 'the old address was told, with a cancel link');
        await page.goto(`${origins.account}${cancel[0]}`);
        await page.getByRole('button', { name: L.cancelEmailChange, exact: true }).waitFor();
      });
      await visit('account-email-change-cancelled', async () => {
        await page.getByRole('button', { name: L.cancelEmailChange, exact: true }).click();
        await page.getByRole('status').filter({ hasText: L.emailChangeCancelled }).waitFor();
      });
      await visit('account-amazon-stores-empty', async () => {
        await page.goto(`${origins.account}/account/amazon-stores`);
        await h1();
      });

      // An invitation link in a signed-out browser: the join page, then a used link.
      const s2 = await Session.open(s.context.browser(), s.dir, { locale: L.locale, layout: true });
      s2.allow(/status of 410/);
      try {
        const join = await s2.newPage();
        await join.goto(link);
        await join.getByRole('heading', { name: L.joinHeading(owner.company), level: 1 }).waitFor();
        for (const f of await s2.audit(join, 'account-join', { lang })) found[f.kind].push(f.text);
        const used = await join.goto(invited.url);
        assert.equal(used.status(), 410);
        await join.getByText(L.invitationUsed, { exact: true }).waitFor();
        for (const f of await s2.audit(join, 'account-join-used', { lang })) found[f.kind].push(f.text);
        // Forgot your password? and the refused links of reset and confirmation, signed out.
        await join.goto(`${origins.account}/password-reset`);
        await join.getByRole('heading', { level: 1 }).first().waitFor();
        for (const f of await s2.audit(join, 'account-password-reset', { lang, mobileShot: true })) found[f.kind].push(f.text);
        for (const link of ['password-reset', 'confirm-email', 'cancel-email-change']) {
          const forged = await join.goto(`${origins.account}/${link}/not-a-real-token`);
          assert.equal(forged.status(), 410, link);
          await join.getByRole('heading', { level: 1 }).first().waitFor();
          for (const f of await s2.audit(join, `account-${link}-refused`, { lang })) found[f.kind].push(f.text);
        }
        const audited = new Set(Object.values(found).flat());
        found.browser.push(...(await s2.takeProblems()).filter((p) => !audited.has(p)));
      } finally {
        await s2.close();
      }

      // Admin: the audit log empty, the welcome page, a config error, the log with changes, 404.
      await adminSignIn(s, page, server, L);
      await visit('admin-audit-empty', async () => {
        await page.goto(`${origins.admin}/admin/audit`);
        await page.getByText(L.adminAuditEmpty, { exact: true }).waitFor();
      });
      await visit('admin-welcome-missing', async () => {
        await page.goto(`${origins.admin}/admin/amazon`);
        await expectWelcome(page, L, L.missing);
      });
      await visit('admin-config-error', async () => {
        await page.goto(`${origins.admin}/admin/config/edit/section/magento_services`);
        await page.getByLabel(L.gatewayUrl, { exact: true }).fill('not a url');
        await page.getByRole('button', { name: L.saveConfig, exact: true }).click();
        await page.getByRole('alert').filter({ hasText: L.configNotSaved }).waitFor();
      });
      await visit('admin-audit', async () => {
        await page.goto(`${origins.admin}/admin/config/edit/section/magento_services#api_keys`);
        await page.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionApiKey, { exact: true }).fill(key.key);
        await page.getByRole('button', { name: L.saveConfig, exact: true }).click();
        await page.getByRole('status').filter({ hasText: L.configSaved }).waitFor();
        await page.goto(`${origins.admin}/admin/audit`);
        await page.getByRole('table').waitFor();
      }, { shot: true });
      await visit('admin-store-integration', async () => {
        await page.goto(`${origins.admin}/admin/amazon`);
        await addStore(page, L, { name: 'Luma US', email: 'seller@example.com', marketplace: L.marketplaceUS });
      }, { shot: true });
      await visit('account-amazon-stores', async () => {
        await page.goto(`${origins.account}/account/amazon-stores`);
        await page.getByRole('table').getByText('Luma US', { exact: true }).waitFor();
      }, { shot: true });
      await visit('admin-account-setting', async () => {
        await page.goto(`${origins.admin}/admin/system/account`);
        await h1();
      }, { shot: true });
      await visit('admin-not-found', async () => {
        const res = await page.goto(`${origins.admin}/admin/no-such-page`);
        assert.equal(res.status(), 404);
      });
      found.browser.push(...(await s.takeProblems()));

      for (const kind of KINDS) {
        await t.test(kind, () => {
          assert.deepEqual(found[kind], [], `\n  - ${found[kind].join('\n  - ')}\n`);
        });
      }
    });
  });
}
