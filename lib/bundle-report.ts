/**
 * The bundle budget: bundles every function the CDK app deploys, with the one bundling definition
 * (lib/bundling.ts) NodejsFunction uses, and measures each bundle (raw, gzip, source map, where its
 * bytes come from per package, and its module initialisation time). The function list comes from
 * the app itself (every PaystepFunction in the stacks), so a new function is measured without being
 * listed anywhere. `npm run bundle-report` prints the table for the README;
 * test/cdk/bundle-budget.test.ts fails when a bundle exceeds BUNDLE_BUDGET_BYTES.
 *
 * Module initialisation (measureInitTimes): each bundle is imported in a fresh Node process, from
 * inside the repository so `@aws-sdk/*` resolves from node_modules as it does from the Lambda
 * runtime, with the environment its synthesized template gives it (secret references replaced by
 * literal values, so no Secrets Manager round trip is counted); the time from before `import()` to
 * its settled promise (top-level awaits included) is one run, and the median of several runs is
 * reported.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_ENTRY_FILE, handlerEntry, toEsbuildOptions } from './bundling';
import { PaystepFunction } from './constructs/paystep-function';
import { addPaystepStacks } from './paystep-app';
import { DEFAULT_SANDBOX_PSP_URL } from './paystep-config';
import { REPO_ROOT } from './repo-root';

/** Where the report writes its bundles: inside the repository, so `@aws-sdk/*` resolves from node_modules. */
export const BUNDLE_REPORT_DIR = resolve(REPO_ROOT, '.paystep', 'bundles');

export interface DeployedFunction {
  readonly entryName: string;
  /** Construct ids of the functions built from this entry (one today; several would share a bundle). */
  readonly constructIds: string[];
  /** The synthesized function, for its environment and the like. */
  readonly functions: PaystepFunction[];
}

export interface BundleSize {
  readonly entryName: string;
  readonly constructIds: string[];
  /** The handler file, `<function dir>/index.mjs`. */
  readonly file: string;
  /** Minified bytes a cold start reads: `index.mjs` and the chunks it imports statically. */
  readonly bytes: number;
  /** Minified bytes of every output file, lazily loaded chunks included (what deploys, maps excluded). */
  readonly totalBytes: number;
  /** gzip (level 9) of the files counted in `bytes`, each compressed on its own. */
  readonly gzipBytes: number;
  /** Every source map of the function (deployed beside the code). */
  readonly sourceMapBytes: number;
  /** The files counted in `bytes`, relative to the function directory (`index.mjs` first). */
  readonly initFiles: readonly string[];
  /** Bytes of `initFiles` per origin (npm package, or `lambdas/<dir>` for Paystep's own code), largest first. */
  readonly origins: readonly BundleOrigin[];
  /** Chunks read only when an `await import()` first runs, largest first, with their origins. */
  readonly lazyChunks: readonly { file: string; bytes: number; origins: readonly BundleOrigin[] }[];
  /** Packages `initFiles` import from outside the bundle (`@aws-sdk/*`, which the Lambda runtime provides). */
  readonly externalPackages: readonly string[];
  /** Packages from outside the bundle loaded only later: by a lazy chunk, or through `await import()`. */
  readonly lazyExternalPackages: readonly string[];
}

export interface BundleOrigin {
  /** `zod`, `@aws-lambda-powertools/logger`, `lambdas/adapters`, ... */
  readonly origin: string;
  readonly bytes: number;
}

/** Module initialisation of one bundle: every run's milliseconds and their medians. */
export interface InitTime {
  readonly entryName: string;
  /** Whole initialisation per run: the external AWS SDK packages plus the bundle itself. */
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  /** Median of the part spent importing the external `@aws-sdk/*` packages (the runtime's SDK). */
  readonly sdkMedianMs: number;
  /** Median of the part spent in the bundle itself (its code and top-level awaits). */
  readonly bundleMedianMs: number;
}

/**
 * The functions of the app `cdk synth` builds (cdk.json context, bundling off: this only reads
 * the construct tree), grouped by handler entry.
 */
export function listDeployedFunctions(context: Record<string, unknown> = {}): DeployedFunction[] {
  const cdkJson = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], sandboxPspUrl: DEFAULT_SANDBOX_PSP_URL, ...context },
  });
  addPaystepStacks(app);
  const byEntry = new Map<string, PaystepFunction[]>();
  for (const construct of app.node.findAll()) {
    if (construct instanceof PaystepFunction)
      byEntry.set(construct.entryName, [...(byEntry.get(construct.entryName) ?? []), construct]);
  }
  return [...byEntry]
    .map(([entryName, functions]) => ({ entryName, functions, constructIds: functions.map((fn) => fn.node.id) }))
    .sort((a, b) => a.entryName.localeCompare(b.entryName));
}

/**
 * Bundles one entry exactly as its function deploys (an output directory: `index.mjs` and its
 * chunks) and measures the result. `bytes` is what a cold start reads: the entry file plus every
 * chunk it imports statically, transitively; chunks reached only through `await import()` are
 * `lazyChunks`, read when that import first runs (a dynamic import at the top level runs at init, so
 * its time shows in the init measurement, not in `bytes`).
 */
export async function bundleEntry(fn: DeployedFunction, outDir: string = BUNDLE_REPORT_DIR): Promise<BundleSize> {
  const functionDir = join(outDir, fn.entryName);
  const file = join(functionDir, BUNDLE_ENTRY_FILE);
  rmSync(functionDir, { recursive: true, force: true });
  mkdirSync(functionDir, { recursive: true });
  // The deployed options plus a metafile (it changes no byte of the output).
  const result = await build({ ...toEsbuildOptions(handlerEntry(fn.entryName), functionDir), metafile: true });
  const metafile = result.metafile;
  const outputs = Object.keys(metafile.outputs).filter((path) => !path.endsWith('.map'));
  const entryOutput = outputs.find((path) => resolve(path) === file);
  if (entryOutput === undefined) throw new Error(`${fn.entryName}: esbuild wrote no ${BUNDLE_ENTRY_FILE}`);
  const atInit = staticClosure(metafile, entryOutput);
  const sizeOf = (path: string): number => statSync(resolve(path)).size;
  const lazyChunks = outputs
    .filter((path) => !atInit.includes(path))
    .map((path) => ({ file: relative(functionDir, resolve(path)), bytes: sizeOf(path), origins: originsOf(metafile, [path]) }))
    .sort((a, b) => b.bytes - a.bytes);
  const externalPackages = externalPackagesOf(metafile, atInit, ['import-statement']);
  return {
    entryName: fn.entryName,
    constructIds: fn.constructIds,
    file,
    bytes: atInit.reduce((sum, path) => sum + sizeOf(path), 0),
    totalBytes: outputs.reduce((sum, path) => sum + sizeOf(path), 0),
    gzipBytes: atInit.reduce((sum, path) => sum + gzipSync(readFileSync(resolve(path)), { level: 9 }).length, 0),
    sourceMapBytes: Object.keys(metafile.outputs)
      .filter((path) => path.endsWith('.map'))
      .reduce((sum, path) => sum + sizeOf(path), 0),
    initFiles: atInit.map((path) => relative(functionDir, resolve(path))),
    origins: originsOf(metafile, atInit),
    lazyChunks,
    externalPackages,
    lazyExternalPackages: externalPackagesOf(metafile, outputs, ['import-statement', 'dynamic-import', 'require-call']).filter(
      (name) => !externalPackages.includes(name),
    ),
  };
}

/** The output files loaded with `entryOutput`: it and the chunks it imports statically, transitively. */
function staticClosure(metafile: Metafile, entryOutput: string): string[] {
  const loaded = [entryOutput];
  for (let index = 0; index < loaded.length; index += 1) {
    for (const imported of metafile.outputs[loaded[index]!]?.imports ?? []) {
      if (imported.external !== true && imported.kind === 'import-statement' && !loaded.includes(imported.path))
        loaded.push(imported.path);
    }
  }
  return loaded;
}

/** The package (or Paystep source folder) an esbuild input path belongs to. */
export function originOf(inputPath: string): string {
  const parts = inputPath.split('/');
  const nodeModules = parts.lastIndexOf('node_modules');
  if (nodeModules !== -1) {
    const name = parts[nodeModules + 1] ?? inputPath;
    return name.startsWith('@') ? `${name}/${parts[nodeModules + 2] ?? ''}` : name;
  }
  const lambdas = parts.indexOf('lambdas');
  if (lambdas !== -1) return parts.slice(lambdas, Math.min(parts.length - 1, lambdas + 2)).join('/');
  return parts.length > 1 ? parts.slice(0, -1).join('/') : inputPath;
}

/** Output bytes per origin over the given output files of the build, largest first. */
function originsOf(metafile: Metafile, outputPaths: readonly string[]): BundleOrigin[] {
  const bytes = new Map<string, number>();
  for (const outputPath of outputPaths) {
    const output = metafile.outputs[outputPath]!;
    for (const [inputPath, input] of Object.entries(output.inputs)) {
      const origin = originOf(inputPath);
      bytes.set(origin, (bytes.get(origin) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .map(([origin, size]) => ({ origin, bytes: size }))
    .filter((origin) => origin.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/**
 * The distinct external packages the given outputs import with one of `kinds` (bare specifiers,
 * Node builtins excluded, with or without `node:`, as CommonJS code in lazy chunks requires them). `import-statement` from the init files is what loads at a cold start;
 * an external behind `await import()` loads when that import runs.
 */
function externalPackagesOf(metafile: Metafile, outputPaths: readonly string[], kinds: readonly string[]): string[] {
  const packages = new Set<string>();
  for (const outputPath of outputPaths) {
    const output = metafile.outputs[outputPath]!;
    for (const imported of output.imports) {
      if (
        imported.external === true &&
        kinds.includes(imported.kind) &&
        !isBuiltin(imported.path) &&
        !imported.path.startsWith('.')
      )
        packages.add(imported.path);
    }
  }
  return [...packages].sort();
}

/** Replacement value for a secret reference when `secrets` is `literal` (what a local run configures). */
const LITERAL_SECRETS: Record<string, string> = {
  ADMIN_TOKEN_HASH: createHash('sha256').update('adm_bundle-report', 'utf8').digest('hex'),
  // 43 base64 characters: a 32-byte AES key, as Secrets Manager generates it (SECRETS_KEY_LENGTH).
  PAYSTEP_SECRETS_KEY: 'A'.repeat(43),
};

/**
 * The function's environment as deployed, with every CloudFormation token replaced by a plausible
 * value. Secrets stay `secretsmanager:<arn>` references (`secrets: 'reference'`, for a load that
 * resolves them against a stand-in) or become literal values (`secrets: 'literal'`, no AWS call).
 */
export function deployedEnvironment(
  fn: PaystepFunction,
  options: { secrets: 'reference' | 'literal'; secretArnPrefix?: string } = { secrets: 'reference' },
): Record<string, string> {
  const arnPrefix = options.secretArnPrefix ?? 'arn:aws:secretsmanager:eu-west-1:000000000000:secret';
  const resource = Stack.of(fn).resolve((fn.node.defaultChild as unknown as { environment: unknown }).environment) as {
    variables?: Record<string, unknown>;
  };
  const variables = resource.variables ?? {};
  return Object.fromEntries(
    Object.entries(variables).map(([key, value]) => {
      if (typeof value === 'string') return [key, value];
      const text = JSON.stringify(value);
      if (text.includes('secretsmanager:')) {
        if (options.secrets === 'literal') return [key, LITERAL_SECRETS[key] ?? `${key.toLowerCase()}-literal`];
        return [key, `secretsmanager:${arnPrefix}:${key}-AbCdEf`];
      }
      if (key.endsWith('_URL')) return [key, 'https://api.example.test'];
      if (key.endsWith('_ARN')) return [key, 'arn:aws:states:eu-west-1:000000000000:stateMachine:checkout'];
      return [key, `${key.toLowerCase()}-from-token`];
    }),
  );
}

/**
 * The environment a cold start gets besides the function's own variables (region, credentials,
 * Lambda's name and execution environment, by which Powertools knows it runs in Lambda and traces).
 */
export function lambdaRuntimeEnvironment(entryName: string): Record<string, string> {
  return {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_LAMBDA_FUNCTION_NAME: entryName,
  };
}

/**
 * One cold start: in a fresh Node process (cwd: the repository, so `@aws-sdk/*` resolves), imports
 * the bundle's external packages and then the bundle, and returns the milliseconds of each part:
 * from before the first `import()` to the settled promise of the last (top-level awaits included).
 * Rejects when an import fails or the module has no `handler` function.
 */
export async function importOnce(
  file: string,
  env: Record<string, string>,
  externalPackages: readonly string[] = [],
  nodePath: string = process.execPath,
): Promise<{ sdkMs: number; bundleMs: number }> {
  const script = [
    'const started = performance.now();',
    `for (const name of ${JSON.stringify(externalPackages)}) await import(name);`,
    'const sdkDone = performance.now();',
    `const m = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const done = performance.now();',
    "if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }",
    "process.stdout.write('PAYSTEP_INIT_MS=' + (sdkDone - started).toFixed(3) + ',' + (done - sdkDone).toFixed(3) + '\\n');",
  ].join(' ');
  return await new Promise((resolveRun, rejectRun) => {
    const child = spawn(nodePath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', rejectRun);
    child.on('close', (code) => {
      const match = /PAYSTEP_INIT_MS=([\d.]+),([\d.]+)/.exec(output);
      if (code === 0 && match?.[1] !== undefined && match[2] !== undefined)
        resolveRun({ sdkMs: Number(match[1]), bundleMs: Number(match[2]) });
      else rejectRun(new Error(`${file}: exit ${String(code)}: ${output.slice(0, 2000)}`));
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Module initialisation time of every bundle: `runs` cold starts each (one process at a time: the
 * CPU is shared), in the deployed environment with literal secrets; the median is what counts.
 */
export async function measureInitTimes(
  functions: readonly DeployedFunction[],
  sizes: readonly BundleSize[],
  options: { runs?: number; nodePath?: string } = {},
): Promise<InitTime[]> {
  const runs = options.runs ?? 5;
  const times: InitTime[] = [];
  for (const fn of functions) {
    const size = sizes.find((candidate) => candidate.entryName === fn.entryName);
    if (size === undefined) continue;
    const env = {
      ...deployedEnvironment(fn.functions[0]!, { secrets: 'literal' }),
      ...lambdaRuntimeEnvironment(fn.entryName),
    };
    // The SDK packages a cold start loads on AWS: the bundle's static imports of the runtime's SDK (none
    // since round 7: util-dynamodb is required by the bundle's own code, so its time is the bundle's).
    // `secretsmanager:` settings (literals here) are fetched with the bundled AWS JSON client, whose
    // code is measured with the bundle; a lazily loaded SDK package would show in lazyExternalPackages.
    const parts: { sdkMs: number; bundleMs: number }[] = [];
    for (let run = 0; run < runs; run += 1) parts.push(await importOnce(size.file, env, size.externalPackages, options.nodePath));
    const runsMs = parts.map((part) => Math.round((part.sdkMs + part.bundleMs) * 10) / 10);
    times.push({
      entryName: fn.entryName,
      runsMs,
      medianMs: median(runsMs),
      sdkMedianMs: median(parts.map((part) => part.sdkMs)),
      bundleMedianMs: median(parts.map((part) => part.bundleMs)),
    });
  }
  return times;
}

/** Every deployed function's bundle, one esbuild run at a time (CPU is shared with other work). */
export async function measureBundles(
  functions: DeployedFunction[] = listDeployedFunctions(),
  outDir: string = BUNDLE_REPORT_DIR,
): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const fn of functions) sizes.push(await bundleEntry(fn, outDir));
  return sizes;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function kb(bytes: number): string {
  return bytes % 1000 === 0 ? `${bytes / 1000} KB` : kib(bytes);
}

/** The issue 14 targets the report prints each bundle against (not enforced by a test yet). */
export interface BundleTargets {
  readonly bytes: number;
  readonly initMs: number;
}

/**
 * A Markdown table (largest first) with the budget, as the README shows it: the bytes a cold start
 * reads (entry and static chunks; budget and targets apply to them) beside every chunk's total. With `init` and
 * `targets`, two more columns: the median module initialisation and ok/over against both targets.
 */
export function formatBundleReport(
  sizes: readonly BundleSize[],
  budgetBytes: number,
  init?: readonly InitTime[],
  targets?: BundleTargets,
): string {
  const withTargets = init !== undefined && targets !== undefined;
  const rows = [...sizes]
    .sort((a, b) => b.bytes - a.bytes)
    .map((size) => {
      const cells = [
        size.entryName,
        kib(size.bytes),
        kib(size.totalBytes),
        kib(size.gzipBytes),
        kib(size.sourceMapBytes),
        size.bytes <= budgetBytes ? 'ok' : 'OVER',
      ];
      if (withTargets) {
        const time = init.find((candidate) => candidate.entryName === size.entryName);
        const ms = time?.medianMs;
        cells.push(
          time === undefined
            ? 'n/a'
            : `${time.medianMs.toFixed(0)} (${time.bundleMedianMs.toFixed(0)} + SDK ${time.sdkMedianMs.toFixed(0)})`,
          size.bytes <= targets.bytes ? 'ok' : 'over',
          ms === undefined ? 'n/a' : ms <= targets.initMs ? 'ok' : 'over',
        );
      }
      return `| ${cells.join(' | ')} |`;
    });
  const header = [
    `Function (lambdas/<entry>)`,
    'Bundle at init (minified ESM)',
    'All chunks',
    'gzip at init',
    'Source maps',
    `Budget ${kib(budgetBytes)}`,
  ];
  const align = ['---', '---:', '---:', '---:', '---:', ':---:'];
  if (withTargets) {
    header.push('Init ms, median (bundle + AWS SDK)', `Size target ${kb(targets.bytes)}`, `Init target ${targets.initMs} ms`);
    align.push('---:', ':---:', ':---:');
  }
  return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows].join('\n');
}

/** Where the bytes of each bundle over `overBytes` go: its `top` largest origins, one line per bundle. */
export function formatBundleOrigins(sizes: readonly BundleSize[], overBytes: number, top = 6): string {
  return [...sizes]
    .filter((size) => size.bytes > overBytes)
    .sort((a, b) => b.bytes - a.bytes)
    .map(
      (size) =>
        `- ${size.entryName} (${kib(size.bytes)}): ${size.origins
          .slice(0, top)
          .map((origin) => `${origin.origin} ${kib(origin.bytes)}`)
          .join(', ')}`,
    )
    .join('\n');
}
