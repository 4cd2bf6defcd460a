/**
 * Entry URL of a worker thread module next to the caller: the compiled `.js` (dist: npm start, the CLI) or — when
 * running from sources (vitest, tsx) — a bootstrap that registers tsx (a dev dependency) in the worker and imports
 * the TypeScript module.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function workerEntry(base: string, from: string): URL {
  const js = new URL(`./${base}.js`, from);
  if (existsSync(fileURLToPath(js))) return js;
  const ts = new URL(`./${base}.ts`, from).href;
  const tsxApi = pathToFileURL(createRequire(from).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const code = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(ts)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
