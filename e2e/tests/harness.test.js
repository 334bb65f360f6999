// The suite's own checks can fail: a page with inline script and style (as
// the server's strict CSP forbids) is reported, so a clean run means something.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

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
