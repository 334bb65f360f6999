// Shared access (SPEC §9): an agency's account is invited into two merchants'
// companies and joins each with Join company while signed in (it keeps its
// own); Switch company in the header picks the company it works in; it
// creates a key in each merchant, and each key is listed only in its own
// company's API Portal; a form from a tab shown before a switch in another
// tab is refused with a page that says so, and nothing is created. In English
// and in Dutch, axe-clean at 1280 and 390 px, the switcher reached by keyboard.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiSignup, createKey, expectPortal, newAccount, signUpHere } from '../lib/flows.js';
import { tabTo } from '../lib/keyboard.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

/** A merchant's owner invites `email` through the JSON API; returns the link. */
async function apiInvite(accountUrl, cookie, email) {
  const res = await fetch(`${accountUrl}/api/v1/invitations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: accountUrl },
    body: JSON.stringify({ email, role: 'member' }),
    signal: AbortSignal.timeout(10_000),
  });
  const json = await res.json();
  assert.equal(res.status, 201, `invite: ${JSON.stringify(json)}`);
  return json.url;
}

/** The names of the keys the browser's session sees in its current company. */
async function keyNames(page, accountUrl) {
  const res = await page.request.get(`${accountUrl}/api/v1/keys`, { timeout: 10_000 });
  assert.equal(res.status(), 200);
  return (await res.json()).keys.map((k) => k.name).sort();
}

/** The header says which company the page is for. */
async function expectCurrent(page, L, company) {
  const menu = page.getByRole('navigation', { name: L.accountMenu });
  await menu.getByText(`${L.currentCompanyIs} ${company}`, { exact: true }).waitFor();
}

for (const lang of ['en', 'nl']) {
  test(`shared access (${lang}): an agency joins two merchants, switches, a key in each, a stale tab refused`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`shared-access-${lang}`, { lang }, async ({ server, s, L }) => {
      const url = server.accountUrl;
      const agency = { ...newAccount(), name: 'Alex Agency', company: 'Pixel Agency', email: 'alex@pixel-agency.example.com' };
      const merchants = [
        { ...newAccount(), company: 'Luma Outdoor BV', email: 'owner@luma-outdoor.example.com' },
        { ...newAccount(), company: 'Nordic Home', email: 'owner@nordic-home.example.com' },
      ];
      const links = [];
      for (const m of merchants) {
        const cookie = await apiSignup(url, m);
        links.push(await apiInvite(url, cookie, agency.email));
      }

      // The agency has an account (and a company) of its own already.
      const page = await s.newPage();
      await page.goto(`${url}/signup`);
      await signUpHere(s, page, L, agency, { shots: false });
      await expectCurrent(page, L, agency.company);

      // Each invitation: signed in, Join company; the merchant becomes current.
      for (const [i, m] of merchants.entries()) {
        await page.goto(links[i]);
        await page.getByRole('heading', { name: L.joinHeading(m.company), level: 1 }).waitFor();
        if (i === 0) {
          await s.shot(page, 'join-signed-in');
          await s.audit(page, 'join-signed-in', { lang, layout: true, mobileShot: true });
        }
        await page.getByRole('button', { name: L.joinCompany, exact: true }).click();
        await page.waitForURL((u) => u.pathname === '/account/members' && u.searchParams.get('notice') === 'joined');
        await page.getByRole('status').filter({ hasText: L.joined }).waitFor();
        await expectCurrent(page, L, m.company);
      }

      // Switch company, by keyboard from the top of the page.
      const problems = [];
      await page.goto(`${url}/account/api-portal`);
      await page.locator('body').focus();
      const switchLink = page.getByRole('navigation', { name: L.accountMenu }).getByRole('link', { name: L.switchCompany, exact: true });
      await tabTo(page, switchLink, problems);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === '/account/companies');
      assert.deepEqual(problems, [], 'every control on the way shows its focus');
      await page.getByRole('heading', { name: L.companiesTitle, level: 1 }).waitFor();
      const table = page.getByRole('table', { name: L.companiesTable, exact: true });
      for (const c of [agency.company, ...merchants.map((m) => m.company)]) {
        await table.getByRole('row').filter({ hasText: c }).waitFor();
      }
      const currentRow = table.getByRole('row').filter({ hasText: merchants[1].company });
      await currentRow.getByText(L.currentCompany, { exact: true }).waitFor();
      await currentRow.getByText(L.roleMember, { exact: true }).waitFor();
      await s.shot(page, 'companies');
      await s.audit(page, 'companies', { lang, layout: true, mobileShot: true });

      // A key in each merchant: each listed only in its own company.
      const made = [];
      for (const [i, m] of merchants.entries()) {
        await page.goto(`${url}/account/companies`);
        await page.getByRole('button', { name: L.switchTo(m.company), exact: true }).click();
        await page.waitForURL((u) => u.pathname === '/account/api-portal');
        await page.getByRole('status').filter({ hasText: L.switchedTo(m.company) }).waitFor();
        await expectPortal(page, L);
        await expectCurrent(page, L, m.company);
        const name = `Store ${i + 1} Sales Channel`;
        made.push(await createKey(page, L, name));
        assert.deepEqual(await keyNames(page, url), [name], `${m.company} holds its own key only`);
      }
      await s.shot(page, 'portal-second-merchant');

      // Two tabs: the second was shown in Nordic Home; the first switches to Luma.
      const stale = await s.newPage();
      await stale.goto(`${url}/account/api-portal`);
      await expectCurrent(stale, L, merchants[1].company);
      await page.goto(`${url}/account/companies`);
      await page.getByRole('button', { name: L.switchTo(merchants[0].company), exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/account/api-portal');
      await expectCurrent(page, L, merchants[0].company);

      // The stale tab's Add New is refused: a page says why; nothing is created.
      s.allow(/status of 409/);
      await stale.bringToFront();
      await stale.getByLabel(L.description, { exact: true }).fill('Made in the wrong company');
      const [answer] = await Promise.all([
        stale.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/account/api-portal'),
        stale.getByRole('button', { name: L.addNew, exact: true }).click(),
      ]);
      assert.equal(answer.status(), 409);
      await stale.getByRole('heading', { name: L.companySwitchedTitle, level: 1 }).waitFor();
      await s.shot(stale, 'stale-company-form');
      await s.audit(stale, 'stale-company-form', { lang, layout: true, mobileShot: true });
      assert.deepEqual(await keyNames(page, url), ['Store 1 Sales Channel'], 'nothing was added to Luma');
      await page.goto(`${url}/account/companies`);
      await page.getByRole('button', { name: L.switchTo(merchants[1].company), exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/account/api-portal');
      assert.deepEqual(await keyNames(page, url), ['Store 2 Sales Channel'], 'nothing was added to Nordic Home');
      assert.equal(new Set(made).size, 2);
      await stale.close();
    });
  });
}
