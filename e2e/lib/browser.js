// Debian's Chromium through playwright-core, plus the cheap checks every page
// gets: axe-core's WCAG 2.1 A/AA rules, accessible names, no horizontal
// overflow, no inline script or style, no CSP violation, no console error, no 5xx.

import path from 'node:path';
import { chromium } from 'playwright-core';

import { blocking as axeBlocking } from './axe.js';
import { englishOnlyTexts } from './labels.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

const devtools = new WeakMap();

/**
 * The page's one DevTools protocol session, kept open while the page lives:
 * closing a session turns off what it enabled on the page, such as the
 * virtual authenticator (`webauthn.js`), so every user shares this one.
 */
export async function cdpFor(page) {
  let cdp = devtools.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    devtools.set(page, cdp);
  }
  return cdp;
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

/**
 * One test's browser session: a context (cookies shared by its tabs, like one
 * browser window), the problems seen on any of its pages, screenshots.
 */
export class Session {
  static async open(browser, dir, { locale = 'en-US', layout = true } = {}) {
    const context = await browser.newContext({
      locale,
      viewport: DESKTOP,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    const s = new Session(context, dir);
    s.layout = layout;
    await context.exposeBinding('__e2eCspViolation', ({ page }, text) => {
      s.problems.push(`CSP violation on ${page?.url()}: ${text}`);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__e2eCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    context.on('page', (page) => s.watch(page));
    return s;
  }

  constructor(context, dir) {
    this.context = context;
    this.dir = dir;
    this.problems = [];
    this.allowed = []; // console errors the test expects (e.g. a 422 form answer)
    this.shots = 0;
    this.pending = [];
  }

  /**
   * The HTML as the server sent it (not the live DOM, which tools touch):
   * no inline script, no style= attribute, no on*= handler, all of which the
   * strict CSP would block.
   */
  checkMarkup(url, html) {
    const found = [
      ...[...html.matchAll(/<script\b(?![^>]*\ssrc=)[^>]*>/gi)].map((m) => `inline script: ${m[0]}`),
      ...[...html.matchAll(/<[a-z][^>]*?\sstyle\s*=[^>]*>/gi)].map((m) => `style attribute: ${m[0].slice(0, 120)}`),
      ...[...html.matchAll(/<[a-z][^>]*?\son[a-z]+\s*=[^>]*>/gi)].map((m) => `event handler attribute: ${m[0].slice(0, 120)}`),
    ];
    if (found.length) this.problems.push(`${url} sends markup the CSP blocks:\n    ${found.join('\n    ')}`);
  }

  async newPage() {
    return this.context.newPage();
  }

  watch(page) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = `${msg.text()} (${msg.location().url})`;
      // A missing /favicon.ico is checked once, by the pages test, not on every page.
      if (/\/favicon\.ico$/.test(msg.location().url)) return;
      if (this.allowed.some((re) => re.test(text))) return;
      this.problems.push(`console error on ${page.url()}: ${text}`);
    });
    page.on('pageerror', (err) => this.problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on('response', (res) => {
      const req = res.request();
      if (res.status() >= 500) this.problems.push(`${res.status()} from ${req.method()} ${res.url()}`);
      if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
        const ct = res.headers()['content-type'] || '';
        const csp = res.headers()['content-security-policy'] || '';
        if (!ct.startsWith('text/html')) return;
        if (!/script-src 'self'/.test(csp) || /unsafe-inline/.test(csp)) {
          this.problems.push(`no strict Content-Security-Policy on ${res.url()}: "${csp}"`);
        }
        if (res.status() >= 300 && res.status() < 400) return;
        this.pending.push(res.text().then((html) => this.checkMarkup(res.url(), html), () => {}));
      }
    });
  }

  /** Lets console errors matching `re` pass (e.g. /status of 422/ for a re-shown form). */
  allow(re) {
    this.allowed.push(re);
  }

  /** Saves a full-page screenshot as NN-name.png in this test's artifacts dir. */
  async shot(page, name) {
    this.shots += 1;
    const file = path.join(this.dir, `${String(this.shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
    return file;
  }

  /**
   * The checks a page gets, by kind (see KINDS): axe-core's WCAG 2.1 A/AA
   * rules (serious and critical violations; with `layout` also at 390 px),
   * accessible names, structure
   * (one h1, a title, the lang; on Dutch pages no English catalog text), and
   * with `layout` (default: the session's) no horizontal overflow at 390 and
   * 1280 px and nothing [hidden] displayed. Returns [{kind, text}] and also
   * collects the texts, so one run shows all of them; `assertClean` fails
   * the test. With `mobileShot`, also saves a 390 px screenshot.
   */
  async audit(page, label, { mobileShot = false, lang = null, layout = null } = {}) {
    const where = `${label} (${new URL(page.url()).pathname})`;
    const found = [
      ...(await axeBlocking(page)).map((t) => ({ kind: 'axe', text: t })),
      ...(await this.checkNames(page)).map((t) => ({ kind: 'names', text: t })),
      ...(await this.checkStructure(page, lang)).map((t) => ({ kind: 'structure', text: t })),
    ];
    if (layout ?? this.layout) {
      found.push(...(await this.checkAxeAt(page, MOBILE)).map((t) => ({ kind: 'axe', text: t })));
      found.push(...(await this.checkOverflow(page)).map((t) => ({ kind: 'overflow', text: t })));
      found.push(...(await this.checkHidden(page)).map((t) => ({ kind: 'hidden', text: t })));
    }
    for (const f of found) f.text = `${where}: ${f.text}`;
    this.problems.push(...found.map((f) => f.text));
    if (mobileShot) {
      const original = page.viewportSize();
      await page.setViewportSize(MOBILE);
      await this.shot(page, `${label}-390px`);
      await page.setViewportSize(original);
    }
    return found;
  }

  /** axe-core at another viewport (e.g. the phone layout: cards, the menu button). */
  async checkAxeAt(page, vp) {
    const original = page.viewportSize();
    await page.setViewportSize(vp);
    try {
      return (await axeBlocking(page)).map((t) => `at ${vp.width}px: ${t}`);
    } finally {
      await page.setViewportSize(original);
    }
  }

  /** Every form control, link and button has an accessible name. */
  async checkNames(page) {
    const out = [];
    const dom = await page.evaluate(() => {
      const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');
      const nameOf = (el) => {
        const labelled = (el.getAttribute('aria-labelledby') || '')
          .split(/\s+/).filter(Boolean).map((id) => text(document.getElementById(id))).join(' ').trim();
        return labelled
          || (el.getAttribute('aria-label') || '').trim()
          || [...(el.labels || [])].map(text).join(' ').trim()
          || (el.getAttribute('title') || '').trim();
      };
      const short = (el) => el.outerHTML.replace(/\s+/g, ' ').slice(0, 140);
      return {
        // Hidden ones too (e.g. the custom expiry date): they show up later.
        controls: [...document.querySelectorAll('input, select, textarea')]
          .filter((el) => el.type !== 'hidden' && !nameOf(el)).map(short),
        buttons: [...document.querySelectorAll('button, a[href]')]
          .filter((el) => !el.hidden && !nameOf(el) && !text(el)).map(short),
      };
    });
    if (dom.controls.length) out.push(`form controls without a label: ${dom.controls.join(' | ')}`);
    if (dom.buttons.length) out.push(`links/buttons without a name: ${dom.buttons.join(' | ')}`);
    // Chromium's own computed accessible names (what a screen reader announces).
    const cdp = await cdpFor(page);
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const needsName = new Set(['textbox', 'combobox', 'listbox', 'searchbox', 'checkbox', 'radio', 'spinbutton', 'button', 'link']);
    const unnamed = nodes
      .filter((n) => !n.ignored && needsName.has(n.role?.value) && !String(n.name?.value ?? '').trim())
      .map((n) => n.role.value);
    if (unnamed.length) out.push(`Chromium computes no accessible name for: ${unnamed.join(', ')}`);
    return out;
  }

  /** One h1, a title, <html lang>; a Dutch page shows no English catalog text. */
  async checkStructure(page, lang) {
    const out = [];
    const dom = await page.evaluate(() => ({
      h1: document.querySelectorAll('h1').length,
      lang: document.documentElement.getAttribute('lang') || '',
      title: document.title.trim(),
      // Names from the database (store views, websites) are data, not UI text.
      body: document.body.innerText.replaceAll('Default Store View', '').replaceAll('Main Website', ''),
    }));
    if (dom.h1 !== 1) out.push(`${dom.h1} <h1> elements (want 1)`);
    if (!dom.title) out.push('empty <title>');
    if (!dom.lang) out.push('<html> has no lang');
    if (lang && dom.lang && dom.lang !== lang) out.push(`<html lang="${dom.lang}">, want "${lang}"`);
    if (lang === 'nl') {
      const english = englishOnlyTexts().filter((t) => dom.body.includes(t));
      if (english.length) out.push(`English text on a page shown in Dutch: ${english.map((t) => `"${t}"`).join(', ')}`);
    }
    return out;
  }

  /**
   * Elements the page marks hidden (e.g. the no-JS Apply buttons that app.js
   * hides) must not be displayed: author CSS like `button { display:
   * inline-block }` silently beats the [hidden] attribute.
   */
  async checkHidden(page) {
    const shown = await page.evaluate(() => [...document.querySelectorAll('[hidden]')]
      .filter((el) => getComputedStyle(el).display !== 'none')
      .map((el) => `${el.outerHTML.replace(/\s+/g, ' ').slice(0, 100)} (display: ${getComputedStyle(el).display})`));
    return shown.length ? [`marked hidden but displayed: ${shown.join(' | ')}`] : [];
  }

  /**
   * No horizontal scrolling at a phone's 390 px nor at 1280 px:
   * document.documentElement.scrollWidth <= the viewport width, and no table
   * (or its .table-wrap) wider than its box. Names the
   * outermost elements that stick out (their parent fits, they do not).
   */
  async checkOverflow(page) {
    const out = [];
    const original = page.viewportSize();
    for (const vp of [MOBILE, DESKTOP]) {
      await page.setViewportSize(vp);
      const res = await page.evaluate((width) => {
        const sw = document.documentElement.scrollWidth;
        if (sw <= width) return { sw, culprits: [] };
        const right = (el) => el.getBoundingClientRect().right;
        const abs = (el) => getComputedStyle(el).position === 'absolute';
        const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
          + `${typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`
          + ` (right edge ${Math.round(right(el))}px${abs(el) ? ', position: absolute' : ''})`;
        // The outermost elements that stick out, and absolutely positioned
        // ones (they escape an overflow:auto wrapper that is not their
        // containing block, so they widen the page).
        const culprits = [...document.querySelectorAll('body *')]
          .filter((el) => right(el) > width + 1 && el.parentElement
            && (right(el.parentElement) <= width + 1 || abs(el)))
          .slice(0, 6)
          .map(describe);
        return { sw, culprits };
      }, vp.width);
      // Tables read as cards on a phone: none scrolls sideways inside its wrapper either.
      const tables = await page.evaluate(() => [...document.querySelectorAll('table, .table-wrap')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.tagName.toLowerCase()}${el.className ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`
          + ` "${(el.querySelector('caption') || el).textContent.trim().slice(0, 40)}" (scrollWidth ${el.scrollWidth} > ${el.clientWidth})`));
      if (tables.length) out.push(`a table scrolls sideways at ${vp.width}px: ${tables.join(', ')}`);
      if (res.sw > vp.width) {
        out.push(`horizontal overflow at ${vp.width}px: scrollWidth ${res.sw}; sticking out: ${res.culprits.join(', ') || '(nothing found)'}`);
      }
    }
    await page.setViewportSize(original);
    return out;
  }

  /** The problems collected so far, and a fresh list. */
  async takeProblems() {
    await Promise.all(this.pending);
    this.pending = [];
    const taken = this.problems;
    this.problems = [];
    return taken;
  }

  /** Fails with every problem collected so far. */
  async assertClean() {
    await Promise.all(this.pending);
    if (this.problems.length) {
      throw new Error(`${this.problems.length} problem(s) seen in the browser:\n  - ${this.problems.join('\n  - ')}`);
    }
  }

  async close() {
    await this.context.close().catch(() => {});
  }
}

/** Polls `fn` until it returns a truthy value, at most `timeoutMs`. */
export async function poll(fn, { timeoutMs = 10_000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
