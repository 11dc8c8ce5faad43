import { BENCHMARKS_DOC_HEADER, replaceSection } from './docs-section';

describe('replaceSection', () => {
  const other = '<!-- bench:eps:start -->\n## EPS\nold eps figures\n<!-- bench:eps:end -->';

  it('appends a section the document does not have yet, after what is there', () => {
    const result = replaceSection(BENCHMARKS_DOC_HEADER, 'read-path', '## Read\n| a |');
    expect(result.startsWith(BENCHMARKS_DOC_HEADER.trimEnd())).toBe(true);
    expect(result.endsWith('<!-- bench:read-path:start -->\n\n## Read\n| a |\n\n<!-- bench:read-path:end -->\n')).toBe(
      true,
    );
  });

  it('replaces only its own section and keeps other sections and prose around it', () => {
    const document = `# Benchmarks\n\nintro\n\n<!-- bench:read-path:start -->\nold read\n<!-- bench:read-path:end -->\n\nnotes\n\n${other}\n`;
    const result = replaceSection(document, 'read-path', 'new read');
    expect(result).toBe(
      `# Benchmarks\n\nintro\n\n<!-- bench:read-path:start -->\n\nnew read\n\n<!-- bench:read-path:end -->\n\nnotes\n\n${other}\n`,
    );
    expect(replaceSection(result, 'read-path', 'new read')).toBe(result);
  });

  it('refuses to guess when the markers are unpaired or repeated', () => {
    expect(() => replaceSection('<!-- bench:read-path:start -->\nno end', 'read-path', 'x')).toThrow(/unpaired/);
    const twice =
      '<!-- bench:read-path:start -->\n<!-- bench:read-path:end -->\n<!-- bench:read-path:start -->\n<!-- bench:read-path:end -->';
    expect(() => replaceSection(twice, 'read-path', 'x')).toThrow(/repeated/);
    expect(() => replaceSection('', 'Read Path', 'x')).toThrow(/kebab-case/);
  });
});
