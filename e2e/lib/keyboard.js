// Keyboard only: Tab (or Shift+Tab) to a control, checking on the way that
// every control that gets the focus shows a focus ring that can be seen.

import { poll } from './browser.js';

/**
 * The focused element's ring: an outline of at least 2 px, not `none`, whose
 * colour has at least 3:1 contrast (WCAG 1.4.11) against what is next to it
 * (the element's own background for an inset ring, else its parent's).
 * Returns null when it is fine, else what is wrong.
 */
export async function focusRingProblem(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const describe = `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().slice(0, 40)}"`;
    if (!el.matches(':focus-visible')) return `${describe} is focused but not :focus-visible`;
    const cs = getComputedStyle(el);
    const width = parseFloat(cs.outlineWidth);
    if (cs.outlineStyle === 'none' || !(width >= 2)) return `${describe} has no visible outline (${cs.outlineStyle} ${cs.outlineWidth})`;
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (start) => {
      for (let n = start; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length >= 3 && (c.length === 3 || c[3] > 0)) return c;
      }
      return [255, 255, 255];
    };
    const next = background(parseFloat(cs.outlineOffset) < 0 ? el : el.parentElement);
    const [a, b] = [lum(rgb(cs.outlineColor)), lum(next)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    return ratio >= 3 ? null : `${describe}: its focus ring ${cs.outlineColor} has ${ratio.toFixed(2)}:1 against rgb(${next.join(', ')}) (want 3:1)`;
  });
}

/**
 * Presses Tab (Shift+Tab with `back`) until `locator` has the focus, at most
 * `max` times. Every control focused on the way is checked for its ring;
 * problems go into `problems`.
 */
export async function tabTo(page, locator, problems, { back = false, max = 80 } = {}) {
  const target = await locator.elementHandle({ timeout: 10_000 });
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const problem = await focusRingProblem(page);
    if (problem) problems.push(`${new URL(page.url()).pathname}: ${problem}`);
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  const what = await target.evaluate((el) => el.outerHTML.slice(0, 120));
  throw new Error(`${max} × ${back ? 'Shift+Tab' : 'Tab'} never reached ${what}`);
}

/** Waits until `locator` has the focus (e.g. an autofocus field after loading). */
export async function expectFocused(locator) {
  await poll(() => locator.evaluate((el) => el === document.activeElement), { what: 'the focus' });
}
