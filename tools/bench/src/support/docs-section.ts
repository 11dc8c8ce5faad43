import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * docs/benchmarks.md is shared by every benchmark: each one owns a section between
 * `<!-- bench:<id>:start -->` and `<!-- bench:<id>:end -->` and rewrites only that, so figures of other
 * benchmarks and any prose around the sections survive a run.
 */
export const BENCHMARKS_DOC_HEADER = [
  '# Benchmarks',
  '',
  'Figures measured on the platform with `npm run bench -- <benchmark>` (the command lives in `tools/bench`).',
  'Each benchmark rewrites only its own section of this file, between `<!-- bench:<name>:start -->` and',
  '`<!-- bench:<name>:end -->` markers; text outside the markers is kept. Figures from a shared or small',
  'machine are noisy: compare ratios measured in the same run rather than absolute numbers across runs.',
  '',
].join('\n');

export function sectionMarkers(id: string): { start: string; end: string } {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`benchmark section id must be kebab-case: ${id}`);
  return { start: `<!-- bench:${id}:start -->`, end: `<!-- bench:${id}:end -->` };
}

/** The document with section `id` replaced by `body` (or appended when the document has no such section). */
export function replaceSection(document: string, id: string, body: string): string {
  const { start, end } = sectionMarkers(id);
  const block = `${start}\n\n${body.trim()}\n\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from === -1 && to === -1) {
    const base = document.trimEnd();
    return `${base}${base ? '\n\n' : ''}${block}\n`;
  }
  if (
    from === -1 ||
    to === -1 ||
    to < from ||
    document.indexOf(start, from + 1) !== -1 ||
    document.indexOf(end, to + 1) !== -1
  ) {
    throw new Error(`the markers of section "${id}" are unpaired, out of order or repeated; fix them by hand first`);
  }
  return `${document.slice(0, from)}${block}${document.slice(to + end.length)}`;
}

/** The repository's Prettier style for that file (tables aligned), or the text as it is when Prettier is missing. */
async function formatted(file: string, text: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...config, filepath: file });
  } catch {
    return text;
  }
}

/** Rewrites one section of the benchmarks document on disk, creating the document when it is missing. */
export async function writeSection(file: string, id: string, body: string): Promise<void> {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : BENCHMARKS_DOC_HEADER;
  writeFileSync(file, await formatted(file, replaceSection(current, id, body)));
}
