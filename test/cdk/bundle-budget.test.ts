/**
 * The bundle budget and a cold start of every bundle: each deployed function is bundled with the
 * settings PaystepFunction deploys (lib/bundling.ts), must stay under BUNDLE_BUDGET_BYTES, and must load
 * in a fresh Node process with the environment its synthesized template gives it. Secrets arrive as
 * `secretsmanager:<arn>` references there, so the load goes through the cold-start secret
 * resolver against a loopback Secrets Manager stand-in (AWS_ENDPOINT_URL_SECRETS_MANAGER): a
 * function that reads a setting the stack does not give it, or a secret it cannot resolve, fails here.
 * The load runs under this Node and again under Node 24, the Lambda runtime's major version (the
 * `node` npm package in tools/node24, installed on first use with `npm ci --prefix tools/node24`).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, PAYSTEP_BUNDLING } from '../../lib/bundling';
import {
  deployedEnvironment,
  formatBundleOrigins,
  lambdaRuntimeEnvironment,
  formatBundleReport,
  listDeployedFunctions,
  measureBundles,
  measureInitTimes,
  type BundleSize,
  type DeployedFunction,
} from '../../lib/bundle-report';
import { REPO_ROOT } from '../../lib/repo-root';
import { SECRETS_KEY_LENGTH } from '../../lib/stateful-stack';

const FAKE_ACCOUNT_ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret';
const NODE24_DIR = resolve(REPO_ROOT, 'tools', 'node24');
const NODE24 = resolve(NODE24_DIR, 'node_modules', 'node', 'bin', 'node');

/** Node 24 from the `node` npm package (registry only); installed from tools/node24's lockfile when missing. */
async function node24(): Promise<string> {
  if (!existsSync(NODE24))
    await promisify(execFile)('npm', ['ci', '--prefix', NODE24_DIR, '--no-audit', '--no-fund'], { cwd: REPO_ROOT });
  return NODE24;
}

/** Loads a bundle in a fresh Node process (a cold start): exit 0 and a `handler` function, or the error output. */
async function importBundle(
  file: string,
  env: Record<string, string>,
  nodePath: string = process.execPath,
): Promise<{ code: number | null; output: string }> {
  const script = `const m = await import(${JSON.stringify(`file://${file}`)}); if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }`;
  return await new Promise((resolveRun) => {
    const child = spawn(nodePath, ['--input-type=module', '--enable-source-maps', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolveRun({ code, output }));
  });
}

describe('bundle budget', () => {
  let functions: DeployedFunction[];
  let sizes: BundleSize[];
  let secretsManager: Server;
  let secretsManagerUrl: string;
  const secretRequests: string[] = [];

  beforeAll(async () => {
    // Prepare: bundle every deployed function; a Secrets Manager stand-in on a random loopback port.
    functions = listDeployedFunctions();
    sizes = await measureBundles(functions);
    secretsManager = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const secretId = (JSON.parse(body) as { SecretId: string }).SecretId;
        secretRequests.push(`${String(request.headers['x-amz-target'])} ${secretId}`);
        const secretString = secretId.includes('PAYSTEP_SECRETS_KEY')
          ? 'A'.repeat(SECRETS_KEY_LENGTH)
          : 'adm_generated-admin-token';
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ ARN: secretId, Name: 'paystep', SecretString: secretString, VersionId: 'v1' }));
      });
    });
    await new Promise<void>((resolveListen) => secretsManager.listen(0, '127.0.0.1', resolveListen));
    secretsManagerUrl = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolveClose) => secretsManager.close(() => resolveClose()));
  });

  it('bundles every deployed function, each under the budget, as ESM with the AWS SDK left external', () => {
    // Assess
    expect(sizes.map((size) => size.entryName)).toEqual(functions.map((fn) => fn.entryName));
    expect(sizes.length).toBeGreaterThanOrEqual(15);
    expect(PAYSTEP_BUNDLING.format).toBe('esm');
    for (const size of sizes) {
      expect(size.bytes, size.entryName).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
      expect(size.totalBytes, size.entryName).toBeGreaterThanOrEqual(size.bytes);
      expect(size.initFiles[0], size.entryName).toBe('index.mjs');
      expect(size.gzipBytes, size.entryName).toBeLessThan(size.bytes);
      expect(size.sourceMapBytes, size.entryName).toBeGreaterThan(0);
    }
  });

  it("reports where each bundle's bytes come from, its AWS SDK imports, and its module initialisation time", async () => {
    // Prepare: the API checkouts function (zod, Powertools, the lean DynamoDB client) and the hosted page
    // (no SDK), loaded as in Lambda (AWS_EXECUTION_ENV set), so the lazily imported tracer loads too.
    const picked = functions.filter((fn) => fn.entryName === 'api-checkouts' || fn.entryName === 'web-checkout');
    // Act
    const init = await measureInitTimes(picked, sizes, { runs: 2 });
    const table = formatBundleReport(sizes, BUNDLE_BUDGET_BYTES, init, { bytes: 150_000, initMs: 50 });
    const origins = formatBundleOrigins(sizes, 150_000);
    // Assess
    const checkouts = sizes.find((size) => size.entryName === 'api-checkouts')!;
    expect(checkouts.origins.reduce((sum, origin) => sum + origin.bytes, 0)).toBeLessThanOrEqual(checkouts.bytes);
    expect(checkouts.origins.map((origin) => origin.origin)).toContain('zod');
    // zod/mini, not full zod (92-97 KiB); the OpenAPI function serves a build-time document without zod at all.
    expect(checkouts.origins.find((origin) => origin.origin === 'zod')!.bytes).toBeLessThan(30 * 1024);
    const openapi = sizes.find((size) => size.entryName === 'api-openapi')!;
    expect(openapi.origins.map((origin) => origin.origin)).not.toContain('zod');
    expect(openapi.origins.map((origin) => origin.origin)).not.toContain('zod-openapi');
    expect(checkouts.origins.map((origin) => origin.origin)).toContain('lambdas/shared');
    // No SDK package is imported at init: the lean client of aws-json-client.ts sends the calls, and the
    // only SDK package left, util-dynamodb's marshalling (the runtime's, CommonJS), is loaded with require().
    expect(checkouts.externalPackages).toEqual([]);
    const initText = checkouts.initFiles.map((file) => readFileSync(resolve(checkouts.file, '..', file), 'utf8')).join('\n');
    expect(initText).toMatch(/\("@aws-sdk\/util-dynamodb"\)/);
    expect(sizes.find((size) => size.entryName === 'web-checkout')!.externalPackages).toEqual([]);
    // Lazily imported code is not read at a cold start: the Stripe SDK and the Tracer with the X-Ray SDK.
    const capture = sizes.find((size) => size.entryName === 'saga-capture-payment')!;
    const lazyOrigins = capture.lazyChunks.flatMap((chunk) => chunk.origins.map((origin) => origin.origin));
    expect(lazyOrigins).toEqual(expect.arrayContaining(['stripe', 'aws-xray-sdk-core', '@aws-lambda-powertools/tracer']));
    expect(capture.lazyChunks.flatMap((chunk) => chunk.origins.map((origin) => origin.origin))).toContain('lambdas/adapters');
    expect(capture.externalPackages).not.toContain('@aws-sdk/client-kms');
    expect(capture.origins.map((origin) => origin.origin)).not.toContain('stripe');
    expect(capture.origins.map((origin) => origin.origin)).not.toContain('aws-xray-sdk-core');
    expect(capture.totalBytes - capture.bytes).toBe(capture.lazyChunks.reduce((sum, chunk) => sum + chunk.bytes, 0));
    expect(init.map((time) => time.entryName).sort()).toEqual(['api-checkouts', 'web-checkout']);
    for (const time of init) {
      expect(time.runsMs).toHaveLength(2);
      expect(time.medianMs, time.entryName).toBeGreaterThan(0);
      expect(time.bundleMedianMs, time.entryName).toBeGreaterThan(0);
    }
    // No external package to import first: the SDK part is the empty loop's (util-dynamodb's require is the bundle's).
    expect(init.find((time) => time.entryName === 'api-checkouts')!.sdkMedianMs).toBeLessThan(1);
    expect(table.split('\n')[0]).toContain('Init target 50 ms');
    expect(table).toMatch(/\| web-checkout \|.*\| \d+ \(\d+ \+ SDK \d+\) \| ok \| (ok|over) \|/);
    expect(table).toMatch(/\| api-customers \|.*\| n\/a \| (ok|over) \| n\/a \|/);
    // One line per bundle over the threshold: none over 150 KB since round 4, so a lower one exercises the lines.
    const lines = (text: string) => (text === '' ? [] : text.split('\n'));
    expect(lines(origins)).toHaveLength(sizes.filter((size) => size.bytes > 150_000).length);
    const over120 = lines(formatBundleOrigins(sizes, 120 * 1024));
    expect(over120).toHaveLength(sizes.filter((size) => size.bytes > 120 * 1024).length);
    expect(over120.length).toBeGreaterThan(0);
    expect(over120.find((line) => line.includes('saga-capture-payment'))).toMatch(/lambdas\/adapters [\d.]+ KiB/);
  }, 120_000);

  it('imports no AWS SDK client, at a cold start or later; the lean clients are read at init only where the hot path calls them', () => {
    // Assess: Step Functions, KMS and Secrets Manager (like DynamoDB) go through the bundled AWS JSON
    // client, so no bundle imports an `@aws-sdk/client-*` package, neither at init nor lazily.
    for (const size of sizes) {
      const clients = [...size.externalPackages, ...size.lazyExternalPackages].filter((pkg) =>
        pkg.startsWith('@aws-sdk/client-'),
      );
      expect(clients, size.entryName).toEqual([]);
    }
    // Step Functions where each invocation calls it (StartExecution, task tokens); the sweep takes it
    // on first use (only a stuck checkout needs it); KMS only with the card vault on the pay and vault
    // paths (the steps that may save a payment method take the vault on first use).
    const readsAtInit = (marker: string) =>
      sizes
        .filter((size) => size.initFiles.some((file) => readFileSync(resolve(size.file, '..', file), 'utf8').includes(marker)))
        .map((size) => size.entryName)
        .sort();
    expect(readsAtInit('AWSStepFunctions')).toEqual([
      'api-pay',
      'api-psp-callbacks',
      'saga-await-authentication',
      'saga-await-authorization',
    ]);
    // api-pay checks a `pm_` with the vault: a chunk it imports on the first such payment (a PSP token never reads it).
    expect(readsAtInit('TrentService')).toEqual(['api-payment-methods']);
    const pay = sizes.find((size) => size.entryName === 'api-pay')!;
    expect(pay.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/card-vault-wiring/);
    const sweep = sizes.find((size) => size.entryName === 'reconciliation-sweep')!;
    expect(sweep.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/task-token-wiring/);
    // The sweep calls merchants only to re-drive a stuck checkout: the merchant HTTP stack is a chunk of
    // its own there; CapturePayment and VoidAuthorization call them on every payment and read it at init.
    expect(sweep.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/merchant-http-wiring/);
    for (const entryName of ['saga-capture-payment', 'saga-void-authorization']) {
      const eager = sizes.find((size) => size.entryName === entryName)!;
      expect(eager.lazyChunks.map((chunk) => chunk.file).join(' '), entryName).not.toMatch(/merchant-http/);
    }
    // A capture whose outcome is unknown (PSP timeout or 5xx) is resolved by a chunk of its own.
    const capture = sizes.find((size) => size.entryName === 'saga-capture-payment')!;
    expect(capture.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/resolve-capture-by-status/);
    // DynamoDB (the lean document client, dynamo-client.ts) everywhere but the two SDK-free functions.
    expect(
      sizes.map((size) => size.entryName).filter((entryName) => !readsAtInit('DynamoDB_20120810').includes(entryName)),
    ).toEqual(['api-openapi', 'web-checkout']);
  });

  it('reads the whole event store at a cold start only in the functions that list, claim or redeliver events', () => {
    // Prepare: a message only DynamoEventStore's delivery changes hold (it survives minification).
    const marker = 'writes in a row';
    const readsAtInit = (entryName: string) => {
      const size = sizes.find((candidate) => candidate.entryName === entryName)!;
      return size.initFiles.map((file) => readFileSync(resolve(size.file, '..', file), 'utf8')).join('\n');
    };
    // Assess: the saga steps and the sweep store and read events by id only (dynamo-event-records.ts);
    // the dispatcher, the event log API and the endpoint test event take the whole store.
    const withStore = sizes.map((size) => size.entryName).filter((entryName) => readsAtInit(entryName).includes(marker));
    expect(withStore.sort()).toEqual(['api-events', 'api-webhook-endpoints', 'webhook-dispatcher']);
    for (const entryName of [
      'saga-capture-payment',
      'saga-void-authorization',
      'saga-await-authentication',
      'reconciliation-sweep',
    ]) {
      // The BatchGetItem operation name of dynamo-client.ts's BatchGetCommand (a string: it survives minification).
      expect(readsAtInit(entryName), entryName).toContain('"BatchGetItem"');
    }
  });

  it.each(['saga-capture-payment', 'reconciliation-sweep'])(
    "loads every lazily imported chunk of %s (the Stripe connector, the Tracer with the X-Ray SDK, the card vault, the customer repository, the previous delivery layout, the sweep's Step Functions client and callback store) under Node 24",
    async (entryName) => {
      // Prepare: the function's deployed environment (the card vault's wiring reads its settings on import).
      const node = await node24();
      const size = sizes.find((candidate) => candidate.entryName === entryName)!;
      const deployed = functions.find((fn) => fn.entryName === entryName)!.functions[0]!;
      const env = {
        ...deployedEnvironment(deployed, { secrets: 'literal' }),
        ...lambdaRuntimeEnvironment(entryName),
      };
      const chunkFiles = size.lazyChunks.map((chunk) => resolve(size.file, '..', chunk.file));
      expect(chunkFiles.length).toBeGreaterThan(0);
      expect(size.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/dynamo-legacy-deliveries/);
      // The customer read (a checkout that saves its payment method for a customer) is a chunk of its own.
      expect(size.lazyChunks.map((chunk) => chunk.file).join(' ')).toMatch(/customer-wiring/);
      for (const chunkFile of chunkFiles) {
        // Act
        const run = await new Promise<{ code: number | null; output: string }>((resolveRun) => {
          const child = spawn(node, ['--input-type=module', '-e', `await import(${JSON.stringify(`file://${chunkFile}`)});`], {
            env: { PATH: process.env.PATH ?? '', ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let output = '';
          child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.on('close', (code) => resolveRun({ code, output }));
        });
        // Assess
        expect(run.code, `${chunkFile}: ${run.output}`).toBe(0);
      }
    },
    120_000,
  );

  it.each([
    ['this Node', async () => process.execPath],
    ['Node 24 (the Lambda runtime)', node24],
  ])(
    'loads every bundle in a fresh process under %s with its deployed environment, resolving secret references once each',
    async (_name, nodePath) => {
      const node = await nodePath();
      const version = await promisify(execFile)(node, ['--version']);
      if (node !== process.execPath) expect(version.stdout.trim()).toMatch(/^v24\./);
      for (const fn of functions) {
        // Prepare
        const env = {
          ...deployedEnvironment(fn.functions[0]!, { secrets: 'reference', secretArnPrefix: FAKE_ACCOUNT_ARN }),
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManagerUrl,
          AWS_LAMBDA_FUNCTION_NAME: fn.entryName,
        };
        const expectedSecretIds = Object.values(env)
          .filter((value) => value.startsWith('secretsmanager:'))
          .map((value) => value.slice('secretsmanager:'.length));
        secretRequests.length = 0;
        const file = sizes.find((size) => size.entryName === fn.entryName)!.file;
        // Act
        const run = await importBundle(file, env, node);
        // Assess
        expect(run.output, fn.entryName).not.toMatch(/Error|required/);
        expect(run.code, `${fn.entryName}: ${run.output}`).toBe(0);
        expect([...secretRequests].sort(), fn.entryName).toEqual(
          expectedSecretIds.map((id) => `secretsmanager.GetSecretValue ${id}`).sort(),
        );
      }
    },
    300_000,
  );
});
