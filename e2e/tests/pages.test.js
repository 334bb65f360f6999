// Every main page of both sites, in English and Dutch, gets the cheap checks.
// The pages are visited once; then one subtest per kind of check, each
// naming the pages that fail it, so one product defect is one failing line.
// Screenshots of each page at 1280 px and 390 px land in e2e/artifacts/pages-LANG/.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  KEY_NAME, addStore, adminSignIn, apiCreateKey, createKey, expectPortal, expectWelcome,
  newAccount, signUpHere,
} from '../lib/flows.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

const KINDS = {
  axe: 'axe-core: no WCAG 2.1 A/AA violation of impact serious or critical (at 1280 and 390 px)',
  names: 'every form control, link and button has an accessible name',
  structure: 'one h1, a title, <html lang> of the language shown (no English on Dutch pages)',
  overflow: 'no horizontal overflow at 390 px and 1280 px (tables read as cards on a phone)',
  hidden: 'nothing marked [hidden] is displayed (e.g. the no-JS Apply buttons)',
  browser: 'markup the strict CSP allows (no inline script, style= or on*=), no CSP violation, no console error, no 5xx',
  notFound: 'an unknown URL gets a "Not found" page of the site, not the browser’s error page',
  icon: 'a site icon (no /favicon.ico 404 on every first visit)',
};

for (const lang of ['en', 'nl']) {
  test(`pages (${lang}): accessibility and layout checks of every main page`, { timeout: TEST_TIMEOUT }, async (t) => {
    await withWorld(`pages-${lang}`, { lang, layout: true }, async ({ server, s, L, origins }) => {
      const page = await s.newPage();
      const found = Object.fromEntries(Object.keys(KINDS).map((k) => [k, []]));

      /** Opens a page, screenshots it (1280 and 390 px) and files what the checks find. */
      const visit = async (label, open) => {
        await open();
        await s.shot(page, label);
        for (const f of await s.audit(page, label, { lang, mobileShot: true })) found[f.kind].push(f.text);
        // What audit() found is filed above; the rest came from the browser.
        const audited = new Set(Object.values(found).flat());
        found.browser.push(...(await s.takeProblems()).filter((p) => !audited.has(p)));
      };

      // Signed out.
      await visit('admin-sign-in', async () => {
        await page.goto(server.adminUrl);
        await page.getByRole('heading', { name: L.adminLoginTitle, level: 1 }).waitFor();
      });
      await visit('account-sign-in', async () => {
        await page.goto(`${origins.account}/login?next=%2Faccount%2Fapi-portal`);
        await page.getByRole('heading', { name: L.accountSignInTitle, level: 1 }).waitFor();
      });
      await visit('account-sign-up', async () => {
        await page.goto(`${origins.account}/signup`);
        await page.getByRole('heading', { name: L.createAccount, level: 1 }).waitFor();
      });

      // Account site, signed in, with a second key that expires soon (wider table).
      const account = newAccount();
      await signUpHere(s, page, L, account, { shots: false });
      const sid = (await s.context.cookies(origins.account)).find((c) => c.name === 'acct_sid');
      const week = new Date(Date.now() + 7 * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await apiCreateKey(origins.account, `acct_sid=${sid.value}`, { name: 'Sandbox (expires soon)', environment: 'sandbox', expires_at: week });
      await visit('account-api-portal', async () => {
        await page.goto(`${origins.account}/account/api-portal`);
        await expectPortal(page, L);
      });
      let key;
      let pem;
      await visit('account-api-portal-new-key', async () => {
        key = await createKey(page, L);
        pem = await page.getByLabel(L.privateKeyLabel, { exact: true }).inputValue();
      });
      await visit('account-information', async () => {
        await page.goto(`${origins.account}/account`);
        await page.getByText(account.email, { exact: true }).first().waitFor();
      });
      await visit('account-revoke-confirm', async () => {
        await page.goto(`${origins.account}/account/api-portal`);
        await page.getByRole('link', { name: L.revokeLink(KEY_NAME), exact: true }).click();
        await page.getByRole('heading', { name: L.revokeHeading(KEY_NAME), level: 1 }).waitFor();
      });
      s.allow(/status of 404/);
      await visit('account-key-not-found', async () => {
        const res = await page.goto(`${origins.account}/account/api-portal/keys/no-such-key/revoke`);
        assert.equal(res.status(), 404);
      });

      // Admin.
      await visit('admin-welcome', async () => {
        await adminSignIn(s, page, server, L);
        await expectWelcome(page, L, L.missing);
      });
      await visit('admin-config-general', async () => {
        await page.goto(`${origins.admin}/admin/config/edit/section/general`);
        await page.getByRole('heading', { name: L.configTitle, level: 1 }).waitFor();
      });
      await visit('admin-config-api-keys', async () => {
        await page.goto(`${origins.admin}/admin/config/edit/section/magento_services#api_keys`);
        await page.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionApiKey, { exact: true }).fill(key);
        // The recommended key pair: its private key goes along (SPEC §3).
        await page.getByRole('region', { name: L.apiKeys }).getByLabel(L.productionPrivateKey, { exact: true }).fill(pem);
        await page.getByRole('button', { name: L.saveConfig, exact: true }).click();
        await page.getByRole('status').filter({ hasText: L.configSaved }).waitFor();
      });
      await visit('admin-store-integration-empty', async () => {
        await page.goto(`${origins.admin}/admin/amazon`);
        await page.getByRole('heading', { name: L.storeIntegration, level: 2 }).waitFor();
      });
      s.allow(/status of 422/);
      await visit('admin-store-validation', async () => {
        await page.getByRole('button', { name: L.storeSubmit, exact: true }).click();
        await page.getByText(L.nameRequired, { exact: true }).waitFor();
      });
      await visit('admin-store-integration', async () => {
        await addStore(page, L, {
          name: 'Luma Outdoor Great Britain & Northern Ireland',
          email: 'uk-marketplace-seller@luma-outdoor.example.com',
          marketplace: lang === 'nl' ? 'Verenigd Koninkrijk' : 'United Kingdom',
        });
      });

      // Unknown addresses.
      for (const url of [`${origins.admin}/admin/no-such-page`, `${origins.account}/no-such-page`]) {
        const probe = await s.newPage(); // a failed navigation leaves a tab busy with Chromium's error page
        const res = await probe.goto(url).catch((e) => {
          if (/ERR_HTTP_RESPONSE_CODE_FAILURE/.test(e.message)) return null;
          throw e;
        });
        await probe.close();
        if (!res) {
          found.notFound.push(`${url} answers an empty 404, so Chromium shows its own "This page isn't working" page`);
        } else if (res.status() !== 404) {
          found.notFound.push(`${url} answers ${res.status()}, want 404`);
        }
      }

      // A site icon: browsers ask for one on every first visit.
      for (const origin of [origins.account, origins.admin]) {
        await page.goto(origin === origins.admin ? `${origin}/admin/login` : `${origin}/login`);
        const href = await page.evaluate(() => document.querySelector('link[rel~="icon"]')?.href ?? null);
        const url = href ?? `${origin}/favicon.ico`;
        const res = await page.request.get(url, { timeout: 5_000 });
        if (res.status() >= 400) found.icon.push(`${url} answers ${res.status()}${href ? '' : ' and no <link rel="icon"> names another'}`);
      }
      found.browser.push(...(await s.takeProblems()));

      for (const [kind, title] of Object.entries(KINDS)) {
        await t.test(title, () => {
          assert.deepEqual(found[kind], [], `\n  - ${found[kind].join('\n  - ')}\n`);
        });
      }
    });
  });
}
