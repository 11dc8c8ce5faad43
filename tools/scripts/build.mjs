// Compiles every TypeScript source under apps/, libs/ and tools/ to dist/ with swc, keeping the layout
// and rewriting the @platform/* path aliases to relative imports. Type checking is `npm run typecheck`.
import { transformFile } from '@swc/core';
import { mkdir, readdir, writeFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const quiet = process.argv.includes('--quiet');
const out = path.join(root, 'dist');
const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));

export function swcOptions(baseUrl) {
  return {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
      baseUrl,
      paths: tsconfig.compilerOptions.paths,
    },
    module: { type: 'commonjs', ignoreDynamic: true },
    sourceMaps: true,
  };
}

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      yield* sources(full);
    } else if (entry.name.endsWith('.json') && full.includes(`${path.sep}src${path.sep}`)) {
      yield full;
    } else if (
      entry.name.endsWith('.ts') &&
      !/\.(spec|int-spec|e2e-spec|test-harness)\.ts$/.test(entry.name) &&
      !entry.name.endsWith('.d.ts')
    ) {
      yield full;
    }
  }
}

const started = Date.now();
// Files are replaced in place and stale ones removed afterwards, so a platform running from dist/ never
// finds a file missing while a build runs beside it.
const written = new Set();
let count = 0;
const options = swcOptions(root);
const jobs = [];
for (const top of ['apps', 'libs', 'tools']) {
  for await (const file of sources(path.join(root, top))) {
    jobs.push(
      (async () => {
        if (file.endsWith('.json')) {
          const copy = path.join(out, path.relative(root, file));
          await mkdir(path.dirname(copy), { recursive: true });
          await writeFile(copy, readFileSync(file));
          written.add(copy);
          return;
        }
        const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, '.js');
        const result = await transformFile(file, {
          ...options,
          filename: file,
          sourceFileName: path.relative(path.dirname(target), file),
        });
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, `${result.code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
        if (result.map) await writeFile(`${target}.map`, result.map);
        written.add(target);
        written.add(`${target}.map`);
        count += 1;
      })(),
    );
  }
}
await Promise.all(jobs);

async function removeStale(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await removeStale(full);
    else if (!written.has(full)) await rm(full, { force: true });
  }
}
await removeStale(out);
if (!quiet) console.log(`built ${count} files into dist/ in ${Date.now() - started} ms`);
