#!/usr/bin/env node
// `npx paystep ...`: the developer CLI (local/cli/paystep.ts), run through tsx like the rest of local/.
import { register } from 'tsx/esm/api';

register();
await import('../local/cli/paystep.ts');
