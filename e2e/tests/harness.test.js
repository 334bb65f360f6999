// The suite's own checks can fail: a page with inline script and style (as
// the server's strict CSP forbids) is reported, so a clean run means something.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';
import { focusRingProblem } from '../lib/keyboard.js';

test('harness: CSP violations, blocked markup, console errors and unlabelled fields are caught', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('harness', {}, async ({ s, origins }) => {
    const page = await s.newPage();
    // The real sign-in page, with a bad line slipped in; the CSP header stays.
    await page.route(`${origins.account}/login`, async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace(
        '</main>',
        '<script>console.log("inline ran")</script><p style="color:red">x</p><input id="bare"></main>',
      );
      await route.fulfill({ response: res, body: html });
    });
    await page.goto(`${origins.account}/login`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    const audited = await s.audit(page, 'tampered');
    const problems = await s.takeProblems();
    const has = (re) => problems.some((p) => re.test(p));
    assert.ok(has(/CSP violation.*script-src/), `a CSP violation is reported:\n${problems.join('\n')}`);
    assert.ok(has(/sends markup the CSP blocks:[\s\S]*inline script[\s\S]*style attribute/), 'the markup check sees them');
    assert.ok(has(/console error/), 'the console error of the blocked script is reported');
    assert.ok(audited.some((f) => f.kind === 'names' && /id="bare"/.test(f.text)), 'an input without a label is reported');
    assert.ok(audited.some((f) => f.kind === 'overflow') === false, 'the flow tests leave layout to pages.test.js');
  });
});

test('harness: axe-core, a table that scrolls sideways and a missing focus ring are caught', { timeout: TEST_TIMEOUT }, async () => {
  await withWorld('harness-axe', { layout: true }, async ({ s, origins }) => {
    const page = await s.newPage();
    // The real stylesheet and sign-in page, each with a bad rule or element added.
    await page.route(`${origins.account}/static/app.css`, async (route) => {
      const res = await route.fetch();
      const css = `${await res.text()}
.faint { color: #c8c8c8; background: #fff; }
.no-ring:focus-visible { outline: none; }
.wide { min-width: 900px; }`;
      await route.fulfill({ response: res, body: css });
    });
    await page.route(`${origins.account}/login`, async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace(
        '</main>',
        '<p class="faint">Hard to read</p><button type="button" class="no-ring">No ring</button>'
          + '<div class="table-wrap"><table class="wide"><caption>Wide</caption><tr><td>a</td></tr></table></div></main>',
      );
      await route.fulfill({ response: res, body: html });
    });
    await page.goto(`${origins.account}/login`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    const audited = await s.audit(page, 'tampered');
    await s.takeProblems();
    const texts = (kind) => audited.filter((f) => f.kind === kind).map((f) => f.text).join('\n');
    assert.match(texts('axe'), /axe serious color-contrast:.*\.faint/, `axe reports the faint text:\n${texts('axe')}`);
    assert.match(texts('overflow'), /a table scrolls sideways at 390px/, 'the sideways table is reported');
    await page.getByRole('button', { name: 'No ring' }).focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    assert.match(await focusRingProblem(page) ?? '', /no visible outline/, 'a control without a focus ring is reported');
  });
});
