// The same walk in Dutch: a browser that asks for nl-NL, found by the Dutch labels.
import { test } from 'node:test';

import { TEST_TIMEOUT } from '../lib/fixture.js';
import { mainFlow } from '../lib/main-flow.js';

test('hoofdroute (Nederlands): welkom → account aanmaken → API-portaal → Kopiëren → Sleutel toevoegen → Configuratie opslaan → Winkelintegratie', { timeout: TEST_TIMEOUT }, async () => {
  await mainFlow('nl');
});
