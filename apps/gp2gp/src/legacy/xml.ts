/**
 * A small, strict XML reader for the few fields gp2gp reads from an ebXML header and an HL7 V3 payload. It
 * accepts well-formed XML only (one root, balanced tags, quoted attributes, the five named entities and
 * character references) and refuses document type declarations, so there are no external entities and no
 * entity expansion. Namespaces are not resolved: elements and attributes are matched by local name, which is
 * enough for the fixed shapes of GP2GP messages. Anything else is an XmlError, never a crash.
 */
export class XmlError extends Error {}

export interface XmlElement {
  /** The local name (without a namespace prefix). */
  name: string;
  /** Attributes by local name (a prefixed attribute is also kept under its full name). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

const MAX_DEPTH = 128;
const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
const ATTRIBUTE = /\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/y;

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function decode(text: string): string {
  return text.replace(/&([^;&\s]{0,10});|&/g, (whole, entity: string | undefined) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (entity !== undefined && Object.hasOwn(named, entity)) return named[entity];
    const code = /^#x([0-9A-Fa-f]{1,6})$/.exec(entity ?? '') ?? /^#([0-9]{1,7})$/.exec(entity ?? '');
    if (code) {
      const value = Number.parseInt(code[1], entity?.startsWith('#x') ? 16 : 10);
      if (value > 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff)) return String.fromCodePoint(value);
    }
    throw new XmlError(`an unknown or malformed entity: ${whole.slice(0, 12)}`);
  });
}

/** Parses `source` into its root element, or throws XmlError saying what is wrong. */
export function parseXml(source: string, maxLength = 4 * 1024 * 1024): XmlElement {
  if (typeof source !== 'string') throw new XmlError('the XML is not text');
  if (source.length > maxLength) throw new XmlError(`the XML is longer than ${maxLength} characters`);
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let position = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (position < source.length) {
    const open = source.indexOf('<', position);
    const text = source.slice(position, open < 0 ? source.length : open);
    if (text.length > 0) {
      const current = stack[stack.length - 1];
      if (current) current.text += decode(text);
      else if (text.trim() !== '') throw new XmlError('text outside the root element');
    }
    if (open < 0) break;
    if (source.startsWith('<?', open)) {
      const end = source.indexOf('?>', open + 2);
      if (end < 0) throw new XmlError('an unterminated processing instruction');
      position = end + 2;
    } else if (source.startsWith('<!--', open)) {
      const end = source.indexOf('-->', open + 4);
      if (end < 0) throw new XmlError('an unterminated comment');
      position = end + 3;
    } else if (source.startsWith('<![CDATA[', open)) {
      const end = source.indexOf(']]>', open + 9);
      const current = stack[stack.length - 1];
      if (end < 0 || !current) throw new XmlError('a CDATA section that is unterminated or outside the root');
      current.text += source.slice(open + 9, end);
      position = end + 3;
    } else if (source.startsWith('<!', open)) {
      throw new XmlError('document type declarations and entities are not accepted');
    } else if (source.startsWith('</', open)) {
      const end = source.indexOf('>', open);
      if (end < 0) throw new XmlError('an unterminated end tag');
      const name = source.slice(open + 2, end).trim();
      const current = stack.pop();
      if (!current || localName(name) !== current.name || !NAME.test(name)) {
        throw new XmlError(`an end tag </${name.slice(0, 40)}> that closes nothing open`);
      }
      position = end + 1;
    } else {
      position = readStartTag(source, open, stack, () => {
        if (root) throw new XmlError('more than one root element');
      });
      root ??= stack[0];
    }
  }
  if (stack.length > 0) throw new XmlError(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

function readStartTag(source: string, open: number, stack: XmlElement[], beforeRoot: () => void): number {
  const nameMatch = /^<([A-Za-z_][A-Za-z0-9_.:-]*)/.exec(source.slice(open, open + 256));
  if (!nameMatch) throw new XmlError('a malformed start tag');
  const element: XmlElement = { name: localName(nameMatch[1]), attributes: {}, children: [], text: '' };
  let position = open + nameMatch[0].length;
  for (;;) {
    ATTRIBUTE.lastIndex = position;
    const attribute = ATTRIBUTE.exec(source);
    if (!attribute) break;
    const full = attribute[1];
    const value = decode(attribute[3] ?? attribute[4] ?? '');
    if (full in element.attributes) throw new XmlError(`the attribute ${full} twice`);
    element.attributes[full] = value;
    element.attributes[localName(full)] ??= value;
    position = ATTRIBUTE.lastIndex;
  }
  const rest = /^\s*(\/?)>/.exec(source.slice(position, position + 64));
  if (!rest) throw new XmlError(`a malformed start tag <${element.name}>`);
  const parent = stack[stack.length - 1];
  if (parent) parent.children.push(element);
  else beforeRoot();
  if (!parent && rest[1] === '/') throw new XmlError('an empty root element is not a message');
  if (rest[1] !== '/') {
    if (stack.length >= MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`);
    stack.push(element);
  }
  return position + rest[0].length;
}

/** The first element at the end of a path of local names below `from` (each step searches all descendants). */
export function find(from: XmlElement, ...path: string[]): XmlElement | undefined {
  let current: XmlElement | undefined = from;
  for (const step of path) {
    current = current && descendant(current, step);
  }
  return current;
}

function descendant(from: XmlElement, name: string): XmlElement | undefined {
  const queue = [...from.children];
  for (let index = 0; index < queue.length; index += 1) {
    if (queue[index].name === name) return queue[index];
    queue.push(...queue[index].children);
  }
  return undefined;
}

/** Every descendant element with the local name, in document order. */
export function findAll(from: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (element: XmlElement): void => {
    for (const child of element.children) {
      if (child.name === name) found.push(child);
      walk(child);
    }
  };
  walk(from);
  return found;
}
