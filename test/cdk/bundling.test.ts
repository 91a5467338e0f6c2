/**
 * lib/bundling.ts at synth: each function's asset is its own esbuild output directory (the handler
 * `index.mjs`, its chunks and source maps), so code splitting deploys, and two functions never share
 * a staged bundle (CDK caches staged assets by their bundling options).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction, PAYSTEP_RUNTIME } from '../../lib/bundling';

describe('function bundling at synth', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'paystep-bundling-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('stages one directory per function with index.mjs, its lazily loaded chunks and the source maps', () => {
    // Prepare: two functions of different entries in one stack that is bundled
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundled');
    for (const entryName of ['web-checkout', 'saga-capture-payment'])
      new LambdaFunction(stack, entryName, {
        code: bundleFunction(entryName),
        handler: 'index.handler',
        runtime: PAYSTEP_RUNTIME,
      });
    // Act
    const assembly = app.synth();
    // Assess
    const assetDirs = readdirSync(assembly.directory)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => join(assembly.directory, name));
    expect(new Set(assetDirs).size).toBe(2);
    for (const dir of assetDirs) {
      expect(existsSync(join(dir, 'index.mjs')), dir).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), dir).toBe(true);
    }
    const capture = assetDirs.find((dir) => readdirSync(dir).includes('chunks'))!;
    const chunks = readdirSync(join(capture, 'chunks'));
    // The connector registry's `await import()`s: the Stripe connector is a chunk of its own.
    expect(chunks.some((file) => /^stripe-.*\.mjs$/.test(file))).toBe(true);
    expect(chunks.filter((file) => file.endsWith('.mjs')).map((file) => `${file}.map`)).toEqual(
      chunks.filter((file) => file.endsWith('.map')),
    );
    expect(readdirSync(assetDirs.find((dir) => dir !== capture)!)).toEqual(['index.mjs', 'index.mjs.map']);
  }, 60_000);
});
