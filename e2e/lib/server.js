// Starting and stopping the real `commerce` release binary for one test:
// a fresh data dir, free ports, the URLs and admin password parsed from stdout.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT = path.dirname(E2E_DIR);
export const BIN = process.env.COMMERCE_BIN || path.join(ROOT, 'target', 'release', 'commerce');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');

// Every process started by this test process, so that none outlives it even
// when a test throws before its `finally` (each is killed by its own PID).
const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

export function requireBinary() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} does not exist: run \`cargo build --release\` in ${ROOT} first`);
  }
}

/** This test's artifacts dir (screenshots, server log), emptied. */
export function artifactDir(name) {
  const dir = path.join(ARTIFACTS, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh, empty data dir (removed by `removeDir`). */
export async function freshDataDir() {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'commerce-e2e-'));
}

export async function removeDir(dir) {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
}

/** A port that was free a moment ago: listen on port 0, read it, close. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const PATTERNS = {
  accountUrl: /^Account service: (http:\/\/\S+)/,
  adminUser: /^Admin user created: (\S+) \/ (\S+)/,
  adminUrl: /^Commerce Admin: (http:\/\/\S+)/,
};

/**
 * Starts `commerce --data-dir DIR ...args` and waits until stdout has printed
 * every line named in `expect` (keys of PATTERNS). Returns a handle with the
 * parsed values and `stop()`.
 */
export async function startCommerce({
  dataDir, args, expect, logFile, timeoutMs = 20_000, bin = BIN, patterns = PATTERNS,
}) {
  if (bin === BIN) requireBinary();
  else if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: run \`cargo build --release\` in ${ROOT} first`);
  const argv = dataDir ? ['--data-dir', dataDir, ...args] : args;
  const child = spawn(bin, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_BACKTRACE: '1' },
  });
  children.add(child);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
  log?.write(`\n$ ${bin} ${argv.join(' ')}\n`);
  const found = {};
  const wanted = new Set(expect);
  let resolveReady;
  const ready = new Promise((resolve) => { resolveReady = resolve; });
  const stderrTail = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    // The admin password is printed once; keep it out of the saved log.
    log?.write(`[stdout] ${line.replace(PATTERNS.adminUser, 'Admin user created: $1 / <password>')}\n`);
    for (const [key, re] of Object.entries(patterns)) {
      const m = line.match(re);
      if (!m) continue;
      if (key === 'adminUser') {
        found.adminUser = m[1];
        found.adminPassword = m[2];
      } else {
        found[key] = m[1].replace(/\/+$/, '');
      }
      wanted.delete(key);
    }
    if (wanted.size === 0) resolveReady();
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    log?.write(`[stderr] ${line}\n`);
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
  });

  const handle = {
    pid: child.pid,
    ...found,
    exited,
    /** SIGTERM, wait for the exit (SIGKILL after `graceMs`). Returns {code, signal}. */
    async stop(graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = delay(graceMs, null, { ref: false }).then(() => 'timeout');
        if ((await Promise.race([exited, timer])) === 'timeout') {
          log?.write('[e2e] no exit after SIGTERM, sending SIGKILL\n');
          child.kill('SIGKILL');
        }
      }
      const result = await exited;
      log?.end();
      return result;
    },
  };

  const outcome = await Promise.race([
    ready.then(() => 'ready'),
    exited.then(() => 'exited'),
    delay(timeoutMs, null, { ref: false }).then(() => 'timeout'),
  ]);
  if (outcome !== 'ready') {
    await handle.stop();
    throw new Error(
      `${path.basename(bin)} ${args.join(' ')} did not print ${[...wanted].join(', ')} (${outcome}); stderr:\n${stderrTail.join('\n')}`,
    );
  }
  Object.assign(handle, found);
  return handle;
}

/**
 * `commerce serve` on fresh ports: both sides, as a merchant would run it;
 * `extra` are further flags of `serve` (e.g. `--service billing=Billing`).
 */
export async function startBoth(dataDir, logFile, extra = []) {
  return startCommerce({
    dataDir,
    logFile,
    args: ['serve', '--account-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0', ...extra],
    expect: ['accountUrl', 'adminUser', 'adminUrl'],
  });
}

/** `commerce serve account` on a given port. */
export async function startAccount(dataDir, port, logFile) {
  return startCommerce({
    dataDir,
    logFile,
    args: ['serve', 'account', '--account-addr', `127.0.0.1:${port}`],
    expect: ['accountUrl'],
  });
}

/** `commerce serve admin` pointed at an account service. */
export async function startAdmin(dataDir, accountUrl, logFile, { firstStart = true } = {}) {
  return startCommerce({
    dataDir,
    logFile,
    args: ['serve', 'admin', '--admin-addr', '127.0.0.1:0', '--account-url', accountUrl],
    expect: firstStart ? ['adminUser', 'adminUrl'] : ['adminUrl'],
  });
}

/** Runs a one-shot CLI command (e.g. config:set); throws on a non-zero exit. */
export function runCli(dataDir, args) {
  requireBinary();
  const r = spawnSync(BIN, ['--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) {
    throw new Error(`commerce ${args[0]} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

export const STANDIN_BIN = process.env.AMAZON_STANDIN_BIN || path.join(ROOT, 'target', 'release', 'amazon-standin');

/**
 * The test kit's Amazon stand-in (crates/testkit: an LWA token endpoint and a
 * Seller Central consent page that follow Amazon's documented contract), for
 * `client` = {applicationId, clientId, secretFile}. Returns a handle with
 * `lwaUrl` (the token URL), `sellerCentralUrl` and `stop()`.
 */
export async function startStandIn({ applicationId, clientId, secretFile, logFile, extra = [] }) {
  return startCommerce({
    dataDir: null,
    bin: STANDIN_BIN,
    logFile,
    args: ['--application-id', applicationId, '--client-id', clientId, '--client-secret-file', secretFile, ...extra],
    expect: ['lwaUrl', 'sellerCentralUrl'],
    patterns: { lwaUrl: /^LWA: (http:\/\/\S+)/, sellerCentralUrl: /^SELLER_CENTRAL: (http:\/\/\S+)/ },
  });
}
