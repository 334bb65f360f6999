// One test's world: its own data dir, server process(es), browser and
// artifacts dir; everything stopped (by PID) and removed afterwards.

import path from 'node:path';

import { launchBrowser, Session } from './browser.js';
import { LABELS } from './labels.js';
import { artifactDir, freshDataDir, removeDir, startBoth } from './server.js';

export const TEST_TIMEOUT = 150_000;

/**
 * Runs `body({ server, s, L, dir, dataDir, origins })` with `commerce serve`
 * on a fresh data dir (or, with `start: false`, lets the body start its own
 * processes and register them with `own(handle)`). Layout checks (overflow,
 * displayed [hidden]) are left to tests/pages.test.js unless `layout: true`.
 * `serveArgs` are further flags of `commerce serve` (e.g. `--service`).
 */
export async function withWorld(name, {
  lang = 'en', start = true, layout = false, serveArgs = [],
} = {}, body) {
  const L = LABELS[lang];
  const dir = artifactDir(name);
  const log = path.join(dir, 'server.log');
  const dataDir = await freshDataDir();
  const processes = [];
  let browser;
  let s;
  try {
    const own = (handle) => { processes.push(handle); return handle; };
    const server = start ? own(await startBoth(dataDir, log, serveArgs)) : null;
    browser = await launchBrowser();
    s = await Session.open(browser, dir, { locale: L.locale, layout });
    const origins = server
      ? { account: server.accountUrl, admin: new URL(server.adminUrl).origin }
      : null;
    await body({ server, s, L, dir, dataDir, log, origins, own });
    await s.assertClean();
  } finally {
    await s?.close();
    await browser?.close().catch(() => {});
    for (const p of processes.reverse()) await p.stop();
    await removeDir(dataDir);
  }
}
