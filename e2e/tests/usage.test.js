// My Account > Usage (SPEC §11), in English and Dutch: a new company's keys
// are checked by a script (valid, revoked, not for this service), the counts
// reach the page (flushed every second here), the Usage tab shows the charts
// (server-drawn SVG) and the same numbers in a table, the key filter narrows
// both, and Download CSV saves the API's rows. axe-core and the layout checks
// at 1280 and 390 px, with the table open (cards on a phone).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { test } from 'node:test';

import { apiCreateKey, newAccount, signUpHere } from '../lib/flows.js';
import { poll } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { startCommerce } from '../lib/server.js';

/** `POST /api/v1/keys/verify` as a store would call it; returns the status. */
async function verify(url, key, service) {
  const headers = { 'X-Api-Key': key };
  if (service) headers['X-Service'] = service;
  const res = await fetch(`${url}/api/v1/keys/verify`, { method: 'POST', headers, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  return (await res.json()).status;
}

/** The API's usage report (JSON, or CSV with `csv`) with the browser's session. */
async function usage(url, cookie, query, { csv = false } = {}) {
  const res = await fetch(`${url}/api/v1/usage?${query}`, {
    headers: { Cookie: cookie, Accept: csv ? 'text/csv' : 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  return csv ? res.text() : res.json();
}

/** The texts of a table row's data cells (the row header left out). */
async function cells(row) {
  return (await row.getByRole('cell').allInnerTexts()).map((t) => t.trim());
}

for (const lang of ['en', 'nl']) {
  test(`usage (${lang}): verifications → the Usage tab's charts and table → key filter → Download CSV`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`usage-${lang}`, { lang, start: false, layout: true }, async ({ s, L, dataDir, log, own }) => {
      // The account service alone, writing its counts every second.
      const server = own(await startCommerce({
        dataDir,
        logFile: log,
        args: ['serve', 'account', '--account-addr', '127.0.0.1:0', '--last-used-flush-secs', '1'],
        expect: ['accountUrl'],
      }));
      const url = server.accountUrl;
      const page = await s.newPage();
      await page.goto(`${url}/signup`);
      await signUpHere(s, page, L, newAccount(), { shots: false });
      const sid = (await s.context.cookies(url)).find((c) => c.name === 'acct_sid');
      assert.ok(sid, 'the account site set acct_sid');
      const cookie = `acct_sid=${sid.value}`;

      // Two keys; the second revoked. A store checks them.
      const store = await apiCreateKey(url, cookie, { name: 'Storefront' });
      const old = await apiCreateKey(url, cookie, { name: 'Old store' });
      const revoked = await fetch(`${url}/api/v1/keys/${old.id}`, { method: 'DELETE', headers: { Cookie: cookie } });
      assert.equal(revoked.status, 204);
      const at = new Date();
      for (let i = 0; i < 3; i += 1) assert.equal(await verify(url, store.key, null), 'valid');
      assert.equal(await verify(url, store.key, 'no_such_service'), 'insufficient_scope');
      for (let i = 0; i < 2; i += 1) assert.equal(await verify(url, old.key, null), 'revoked');
      await poll(async () => (await usage(url, cookie, 'granularity=hour')).totals.revoked === 2,
        { timeoutMs: 10_000, intervalMs: 300, what: 'the counts to be written' });

      // The Usage tab: both charts, drawn on the server.
      await page.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.usageTab, exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/account/usage');
      const tab = page.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.usageTab, exact: true });
      assert.equal(await tab.getAttribute('aria-current'), 'page', 'Usage is the current tab');
      const hours = page.getByRole('region', { name: L.usageHours, exact: true });
      const days = page.getByRole('region', { name: L.usageDays, exact: true });
      await hours.getByText(L.usageCount(6), { exact: true }).waitFor();
      await days.getByText(L.usageCount(6), { exact: true }).waitFor();
      const chart = hours.getByRole('img', { name: L.usageHoursChart, exact: true });
      await chart.waitFor();
      await days.getByRole('img', { name: L.usageDaysChart, exact: true }).waitFor();
      const bar = (outcome) => chart.locator(`rect[data-outcome="${outcome}"]`);
      assert.equal(await bar('valid').getAttribute('data-value'), '3');
      assert.equal(await bar('revoked').getAttribute('data-value'), '2');
      assert.equal(await bar('insufficient_scope').getAttribute('data-value'), '1');
      const height = async (outcome) => Number(await bar(outcome).getAttribute('height'));
      assert.ok(Math.abs(await height('valid') - 3 * await height('insufficient_scope')) < 0.05, 'bars are proportional');
      await s.shot(page, 'usage');

      // The same numbers in a table: the hour of the checks is listed, and the totals.
      await hours.getByText(L.usageTable, { exact: true }).click();
      const table = hours.getByRole('table');
      await table.waitFor();
      const hh = String(at.getUTCHours()).padStart(2, '0');
      const hourLabel = `${at.getUTCDate()} ${L.usageMonths[at.getUTCMonth()]} ${hh}:00`;
      await table.getByRole('rowheader', { name: hourLabel, exact: true }).waitFor();
      const totals = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: L.usageTotal, exact: true }) });
      // Valid, invalid, expired, revoked, disabled, not from this address, not for this service, throttled, total.
      assert.deepEqual(await cells(totals), ['3', '0', '0', '2', '0', '0', '1', '0', '6']);
      await s.audit(page, 'usage', { lang, layout: true, mobileShot: true });

      // Filter by the key: both charts narrow to it.
      const select = page.getByLabel(L.usageKey, { exact: true });
      assert.equal(await select.locator('option:checked').innerText(), L.usageAllKeys);
      await select.selectOption({ label: `Storefront (${store.hint})` });
      await page.getByRole('button', { name: L.usageShow, exact: true }).click();
      await page.waitForURL((u) => u.searchParams.get('key_id') === store.id);
      await hours.getByText(L.usageCount(4), { exact: true }).waitFor();
      await days.getByText(L.usageCount(4), { exact: true }).waitFor();
      assert.equal(await chart.locator('rect[data-outcome="revoked"]').count(), 0, 'the revoked key is filtered out');
      await hours.getByText(L.usageTable, { exact: true }).click();
      assert.deepEqual(await cells(totals), ['3', '0', '0', '0', '0', '0', '1', '0', '4']);
      await s.shot(page, 'usage-one-key');

      // Download CSV: the API's rows for this key, by hour.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        hours.getByRole('link', { name: new RegExp(`^${L.usageDownload}`) }).click(),
      ]);
      assert.match(download.suggestedFilename(), /\.csv$/);
      const saved = await fs.readFile(await download.path(), 'utf8');
      const api = await usage(url, cookie, `granularity=hour&key_id=${store.id}`, { csv: true });
      const [header, ...rows] = api.split('\r\n');
      assert.equal(saved.split('\r\n')[0], header);
      const counted = rows.find((r) => /,3,0,0,0,0,0,1,0$/.test(r));
      assert.ok(counted, `the API's CSV has the hour of the checks: ${api}`);
      assert.ok(saved.includes(`\r\n${counted}\r\n`), `the download has the same line: ${saved}`);
    });
  });
}
