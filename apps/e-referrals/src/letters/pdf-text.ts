import { inflateSync } from 'node:zlib';

/**
 * The text a PDF shows, for tests: its content streams inflated and their string operands decoded (hex and
 * literal). Enough for pdfkit's output with the standard fonts; not a general PDF reader.
 */
export function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const texts: string[] = [];
  const stream = /<<([\s\S]*?)>>\s*stream\r?\n/g;
  for (let match = stream.exec(source); match; match = stream.exec(source)) {
    const start = match.index + match[0].length;
    const end = source.indexOf('endstream', start);
    const raw = pdf.subarray(start, end);
    let content: string;
    try {
      content = (match[1]?.includes('FlateDecode') ? inflateSync(raw) : raw).toString('latin1');
    } catch {
      continue;
    }
    for (const operand of content.matchAll(/<([0-9a-fA-F]+)>|\(((?:\\.|[^\\)])*)\)/g)) {
      texts.push(operand[1] ? Buffer.from(operand[1], 'hex').toString('latin1') : (operand[2] ?? ''));
    }
  }
  return texts.join('');
}
