/**
 * Code-shape figures issue 13 asks for, measured from the source (`npm run figures`): the import
 * closure of each Lambda entry (files under lambdas/ a reader may open), the files one payment
 * crosses from POST /pay to the webhook, the largest functions in lambdas/, and the ports' sizes.
 * Reads the TypeScript sources only; nothing is built or run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAMBDAS = join(ROOT, 'lambdas');

/** The file a relative import names, trying the extensions and index files TypeScript would. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/**
 * Every lambdas/ file reachable by static or dynamic imports from `entry` (type-only imports
 * included: a reader opens them too). `staticOnly`: without what `await import()` loads on first
 * use (the connector registry's folders), i.e. what the entry's cold start may evaluate.
 */
export function importClosure(entry: string, { staticOnly = false }: { staticOnly?: boolean } = {}): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      if (staticOnly && /import\(\s*['"]?$/.test(text.slice(Math.max(0, ref.pos - 20), ref.pos))) continue;
      const target = resolveImport(file, ref.fileName);
      if (target !== undefined && target.startsWith(LAMBDAS) && !seen.has(target)) queue.push(target);
    }
  }
  return seen;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface FunctionSize {
  file: string;
  name: string;
  lines: number;
}

/** Every function-like node's length in lines (a nested function counts inside its parent too). */
export function functionSizes(files: string[]): FunctionSize[] {
  const sizes: FunctionSize[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const named = (node as ts.FunctionLikeDeclaration).name;
        const name = named !== undefined ? named.getText(source) : `<anonymous>@${start + 1}`;
        sizes.push({ file: relative(ROOT, file), name, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sizes.sort((a, b) => b.lines - a.lines);
}

function main(): void {
  const entries = readdirSync(LAMBDAS)
    .filter((name) => existsSync(join(LAMBDAS, name, 'handler.ts')))
    .sort();
  console.log('Import closure per entry (files under lambdas/; static: without `await import()` targets):');
  for (const entry of entries) {
    const handler = join(LAMBDAS, entry, 'handler.ts');
    const all = importClosure(handler).size;
    const staticOnly = importClosure(handler, { staticOnly: true }).size;
    console.log(`  ${entry.padEnd(28)} ${String(all).padStart(4)}  static ${String(staticOnly).padStart(4)}`);
  }
  const paymentPath = ['api-pay', ...entries.filter((name) => name.startsWith('saga-')), 'webhook-dispatcher'];
  const union = new Set<string>();
  for (const entry of paymentPath) {
    if (!existsSync(join(LAMBDAS, entry, 'handler.ts'))) continue;
    for (const file of importClosure(join(LAMBDAS, entry, 'handler.ts'))) union.add(file);
  }
  console.log(`Files from POST /pay to the webhook (${paymentPath.join(', ')}): ${union.size}`);
  const all = walk(LAMBDAS);
  console.log('Largest functions in lambdas/:');
  for (const size of functionSizes(all).slice(0, 5))
    console.log(`  ${String(size.lines).padStart(4)}  ${size.file} ${size.name}`);
  const ports = all.filter((file) => relative(LAMBDAS, file).startsWith('ports')).sort();
  console.log('Ports:');
  for (const file of ports) {
    const text = readFileSync(file, 'utf8');
    const exportsCount = (text.match(/^export /gm) ?? []).length;
    console.log(
      `  ${relative(ROOT, file).padEnd(40)} ${String(text.split('\n').length).padStart(4)} lines ${exportsCount} exports`,
    );
  }
  const connectorFiles = all.filter((file) => relative(LAMBDAS, file).startsWith('connectors'));
  console.log(`Connector folders: ${connectorFiles.length} files`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
