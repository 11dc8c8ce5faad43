/**
 * Exact edits of existing files. Each finds one anchor (a marker comment, or a line of a known shape), inserts
 * there, and throws a Refusal when the anchor is missing or the service is already there: the generator
 * collects every refusal before it writes anything.
 */
export class Refusal extends Error {}

function lines(text: string): string[] {
  return text.split('\n');
}

/** Inserts `insert` (whole lines, ending in a newline) before the one line equal to `marker` (after trimming). */
export function insertBeforeMarker(text: string, marker: string, insert: string, file: string): string {
  const all = lines(text);
  const at = all.map((line) => line.trim()).filter((line) => line === marker).length;
  if (at !== 1) throw new Refusal(`${file}: expected the line \`${marker}\` once, found it ${at} times`);
  const index = all.findIndex((line) => line.trim() === marker);
  return [...all.slice(0, index), ...insert.replace(/\n$/, '').split('\n'), ...all.slice(index)].join('\n');
}

/** Inserts `insert` after the last line matching `pattern` (and the lines of its block indented below it). */
export function insertAfterLast(
  text: string,
  pattern: RegExp,
  insert: string,
  file: string,
  options: { block?: boolean } = {},
): string {
  const all = lines(text);
  let index = -1;
  all.forEach((line, at) => {
    if (pattern.test(line)) index = at;
  });
  if (index < 0) throw new Refusal(`${file}: found no line like ${String(pattern)} to insert after`);
  if (options.block) {
    const indent = /^\s*/.exec(all[index])?.[0].length ?? 0;
    while (index + 1 < all.length && all[index + 1].trim() !== '' && /^\s*/.exec(all[index + 1])![0].length > indent) {
      index += 1;
    }
  }
  return [...all.slice(0, index + 1), ...insert.replace(/\n$/, '').split('\n'), ...all.slice(index + 1)].join('\n');
}

/** Inserts `insert` before the first line matching `pattern`. */
export function insertBeforeFirst(text: string, pattern: RegExp, insert: string, file: string): string {
  const all = lines(text);
  const index = all.findIndex((line) => pattern.test(line));
  if (index < 0) throw new Refusal(`${file}: found no line like ${String(pattern)} to insert before`);
  return [...all.slice(0, index), ...insert.replace(/\n$/, '').split('\n'), ...all.slice(index)].join('\n');
}

export function refuseIfPresent(text: string, needle: string | RegExp, file: string, what: string): void {
  const found = typeof needle === 'string' ? text.includes(needle) : needle.test(text);
  if (found) throw new Refusal(`${file} already has ${what}`);
}

/** Adds `"alias": ["target"]` to tsconfig.json's paths, in sorted place, keeping the file's layout. */
export function addPathAlias(text: string, alias: string, target: string): string {
  const file = 'tsconfig.json';
  const parsed = JSON.parse(text) as { compilerOptions: { paths: Record<string, string[]> } };
  if (parsed.compilerOptions.paths[alias]) throw new Refusal(`${file} already has the alias ${alias}`);
  const all = lines(text);
  const entry = /^(\s*)"(@platform\/[^"]+)": \[[^\]]*\],?$/;
  const entries = all.map((line, index) => ({ index, match: entry.exec(line) })).filter((item) => item.match);
  if (entries.length === 0) throw new Refusal(`${file}: found no "@platform/..." path aliases`);
  const after = entries.find((item) => item.match![2] > alias);
  const indent = entries[0].match![1];
  const line = `${indent}"${alias}": ["${target}"]`;
  let result: string[];
  if (after) {
    result = [...all.slice(0, after.index), `${line},`, ...all.slice(after.index)];
  } else {
    const last = entries[entries.length - 1].index;
    result = [...all.slice(0, last), `${all[last].replace(/,?$/, ',')}`, line, ...all.slice(last + 1)];
  }
  const joined = result.join('\n');
  const check = JSON.parse(joined) as { compilerOptions: { paths: Record<string, string[]> } };
  if (check.compilerOptions.paths[alias]?.[0] !== target) throw new Refusal(`${file}: the alias did not land`);
  return joined;
}
