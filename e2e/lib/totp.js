// An authenticator app for the tests: RFC 6238 codes (HMAC-SHA1, 6 digits,
// 30-second steps) from a base32 secret, with node:crypto only. The Admin
// accepts a code once, and the codes of one step either side of its clock:
// `nextCode` never repeats a step and waits when it must.

import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (spaces and padding ignored) to bytes. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code of `step` (unix time / 30) for `secret` (RFC 4226 HOTP). */
export function codeAtStep(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(bin).padStart(6, '0');
}

export const stepNow = () => Math.floor(Date.now() / 30_000);

/**
 * A code not used before for this authenticator (`{ secret, lastStep }`,
 * updated): the current step's, or the next step's when the current one was
 * used; when both were, waits for the clock.
 */
export async function nextCode(auth) {
  for (;;) {
    const now = stepNow();
    const step = Math.max(now, (auth.lastStep ?? 0) + 1);
    if (step <= now + 1) {
      auth.lastStep = step;
      return codeAtStep(auth.secret, step);
    }
    await delay(1_000);
  }
}

// RFC 6238's SHA-1 test vector (t = 59, cut to six digits): the helper is right.
if (codeAtStep('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1) !== '287082') {
  throw new Error('totp.js does not compute RFC 6238 codes');
}
