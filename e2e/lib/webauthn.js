// A passkey for the tests: Chromium's virtual authenticator, reached through
// the DevTools protocol's WebAuthn domain on a CDP session of the page. It
// answers navigator.credentials.create/get like a real security key with a
// fingerprint reader: resident keys, user verification, user presence.

import { cdpFor } from './browser.js';

/**
 * Adds a virtual authenticator to `page`'s browser context (CTAP2, internal
 * transport) and returns { id, cdp, credentials() }.
 */
export async function addVirtualAuthenticator(page) {
  const cdp = await cdpFor(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    id: authenticatorId,
    cdp,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}
