// The merchant documentation, step by step, in English.
import { test } from 'node:test';

import { TEST_TIMEOUT } from '../lib/fixture.js';
import { mainFlow } from '../lib/main-flow.js';

test('main flow (English): welcome → sign up → API Portal → Copy → Add the key → Save Config → Store Integration', { timeout: TEST_TIMEOUT }, async () => {
  await mainFlow('en');
});
