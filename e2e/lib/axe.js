// axe-core (npm) in the page: WCAG 2.1 A and AA rules. A violation of impact
// serious or critical fails the suite; minor and moderate ones are reported
// by `axe()` too (`impact` says which) but `blocking()` leaves them out.
//
// The source is evaluated through the DevTools protocol (page.evaluate), which
// the page's strict CSP does not apply to, so nothing inline is added to the
// page and the CSP checks of browser.js stay meaningful.

import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe on the page as it is now (its viewport, its language) and returns
 * the violations: [{id, impact, help, nodes: [{target, summary}]}].
 */
export async function axe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  return page.evaluate(async (tags) => {
    const res = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return res.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({
        target: n.target.join(' '),
        summary: (n.failureSummary || '').replace(/\s+/g, ' ').trim().slice(0, 300),
      })),
      count: v.nodes.length,
    }));
  }, AXE_TAGS);
}

/** The serious and critical violations, one readable line each. */
export async function blocking(page) {
  const out = [];
  for (const v of await axe(page)) {
    if (!BLOCKING_IMPACTS.has(v.impact)) continue;
    const nodes = v.nodes.map((n) => `${n.target}${n.summary ? ` (${n.summary})` : ''}`).join('; ');
    out.push(`axe ${v.impact} ${v.id}: ${v.help} — ${v.count} element(s): ${nodes}`);
  }
  return out;
}
