/**
 * Node's `http` and `https` modules, loaded with require() rather than an ESM import. On Node 24
 * (the Lambda runtime) the ESM facade of `node:http` reads every export, including the lazy
 * WebSocket/EventSource classes backed by undici, so an ESM import costs 25-40 ms of every cold
 * start (issue 14, `npm run bundle-report`; about 5 ms through require). Same module objects.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

/** require() for the functions' ESM bundles: Node builtins, and the Lambda runtime's CommonJS packages. */
export const load = createRequire(import.meta.url);

export const http = load('node:http') as typeof Http;
export const https = load('node:https') as typeof Https;
