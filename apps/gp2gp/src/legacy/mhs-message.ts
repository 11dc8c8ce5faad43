import { find, findAll, parseXml, type XmlError, type XmlElement } from './xml';

/**
 * An MHS inbound message as the NHS's MHS adaptor hands it on (its inbound queue's JSON): the ebXML header
 * (SOAP envelope), the HL7 V3 payload, attachments carried in the message (`cid:`) and attachments named
 * only by the message that will carry them (`mid:`, the large-message protocol).
 */
export class MhsMessageError extends Error {}

export const EHR_EXTRACT = 'RCMR_IN030000UK06';
export const COPC = 'COPC_IN000001UK01';
export const ACKNOWLEDGEMENT = 'MCCI_IN010000UK13';
const ACTIONS = [EHR_EXTRACT, COPC, ACKNOWLEDGEMENT] as const;
export type MhsAction = (typeof ACTIONS)[number];

const GP2GP_SERVICE = 'urn:nhs:names:services:gp2gp';
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** Message and document IDs: the fixtures' are UUIDs or UUID-like (one is a shortened UUID). */
const MESSAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_ATTACHMENTS = 200;

/** The attachment description GP2GP puts in the manifest: `Filename="..." ContentType=... Compressed=Yes ...`. */
export interface AttachmentDescription {
  filename: string | null;
  contentType: string | null;
  compressed: boolean;
  largeAttachment: boolean;
  originalBase64: boolean;
}

export interface InlineAttachment {
  contentType: string;
  isBase64: boolean;
  description: AttachmentDescription;
  /** The attachment's text as carried: base64 when `isBase64`. */
  payload: string;
}

export interface ExternalAttachment {
  documentId: string;
  /** The ebXML MessageId of the message that carries it (a COPC), or of its fragment index. */
  messageId: string;
  title: string | null;
  description: AttachmentDescription;
}

export interface MhsMessage {
  conversationId: string;
  messageId: string;
  refToMessageId: string | null;
  action: MhsAction;
  fromParty: string | null;
  toParty: string | null;
  /** The HL7 V3 payload as received (XML text) and its parsed root. */
  payload: string;
  hl7: XmlElement;
  attachments: InlineAttachment[];
  externalAttachments: ExternalAttachment[];
}

function fail(message: string): never {
  throw new MhsMessageError(message);
}

function text(element: XmlElement | undefined): string | null {
  const value = element?.text.trim();
  return value ? value : null;
}

function requireId(value: string | null, what: string, pattern = MESSAGE_ID): string {
  if (!value || !pattern.test(value)) fail(`${what} is missing or not an identifier`);
  return value;
}

/** Reads the manifest-style description; unknown words are ignored, a missing one means "No". */
export function parseDescription(description: unknown): AttachmentDescription {
  const value = typeof description === 'string' ? description : '';
  const field = (name: string): string | null => {
    const match = new RegExp(`(?:^|\\s)${name}=("([^"]*)"|(\\S+))`).exec(value);
    return match ? (match[2] ?? match[3]) : null;
  };
  const yes = (name: string): boolean => field(name)?.toLowerCase() === 'yes';
  return {
    filename: field('Filename'),
    contentType: field('ContentType'),
    compressed: yes('Compressed'),
    largeAttachment: yes('LargeAttachment'),
    originalBase64: yes('OriginalBase64'),
  };
}

function string(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string') fail(`${what} is not text`);
  if (value.length > max) fail(`${what} is longer than ${max} characters`);
  return value;
}

/** The carried text of an inline attachment over NATS (one message); the gateway's MHS route passes more. */
export const DEFAULT_ATTACHMENT_CHARS = 2 * 1024 * 1024;

function parseInline(value: unknown, index: number, maxChars: number): InlineAttachment {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`attachments[${index}] is not an object`);
  const record = value as Record<string, unknown>;
  const isBase64 = record['is_base64'];
  if (!['true', 'false', true, false].includes(isBase64 as string | boolean)) {
    fail(`attachments[${index}].is_base64 is neither true nor false`);
  }
  return {
    contentType: string(record['content_type'], `attachments[${index}].content_type`, 255),
    isBase64: isBase64 === true || isBase64 === 'true',
    description: parseDescription(record['description'] ?? ''),
    payload: string(record['payload'], `attachments[${index}].payload`, maxChars),
  };
}

function parseExternal(value: unknown, index: number): ExternalAttachment {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`external_attachments[${index}] is not an object`);
  }
  const record = value as Record<string, unknown>;
  const title =
    record['title'] === undefined || record['title'] === null ? null : string(record['title'], 'title', 512);
  return {
    documentId: requireId(typeof record['document_id'] === 'string' ? record['document_id'] : null, 'document_id'),
    messageId: requireId(typeof record['message_id'] === 'string' ? record['message_id'] : null, 'message_id'),
    title,
    description: parseDescription(record['description'] ?? ''),
  };
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`${what} is not a list`);
  if (value.length > MAX_ATTACHMENTS) fail(`${what} has more than ${MAX_ATTACHMENTS} entries`);
  return value;
}

/** Reads and checks an MHS inbound message; any problem is an MhsMessageError saying what is wrong. */
export function parseMhsMessage(raw: unknown, options: { maxAttachmentChars?: number } = {}): MhsMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('the message is not an object');
  const record = raw as Record<string, unknown>;
  const unknown = Object.keys(record).filter(
    (key) => !['ebXML', 'payload', 'attachments', 'external_attachments'].includes(key),
  );
  if (unknown.length > 0) fail(`the message has fields an MHS message does not: ${unknown.slice(0, 5).join(', ')}`);
  const ebxmlText = string(record['ebXML'], 'ebXML', 256 * 1024);
  const payload = string(record['payload'], 'payload', 4 * 1024 * 1024);
  let ebxml: XmlElement;
  let hl7: XmlElement;
  try {
    ebxml = parseXml(ebxmlText);
  } catch (error) {
    throw new MhsMessageError(`the ebXML header is not well-formed XML: ${(error as XmlError).message}`);
  }
  try {
    hl7 = parseXml(payload);
  } catch (error) {
    throw new MhsMessageError(`the HL7 payload is not well-formed XML: ${(error as XmlError).message}`);
  }
  if (ebxml.name !== 'Envelope') fail('the ebXML header is not a SOAP envelope');
  const header = find(ebxml, 'Header', 'MessageHeader');
  if (!header) fail('the ebXML envelope has no MessageHeader');
  const service = text(find(header, 'Service'));
  if (service !== GP2GP_SERVICE) fail(`the ebXML Service is not ${GP2GP_SERVICE}`);
  const action = text(find(header, 'Action'));
  if (!ACTIONS.includes(action as MhsAction)) fail(`the ebXML Action is not one gp2gp takes (${ACTIONS.join(', ')})`);
  if (hl7.name !== action) fail(`the HL7 payload is not a ${action}, as its ebXML Action says`);
  const interaction = find(hl7, 'interactionId')?.attributes['extension'];
  if (interaction !== undefined && interaction !== action)
    fail('the HL7 interactionId does not match the ebXML Action');
  const conversationId = requireId(text(find(header, 'ConversationId')), 'the ebXML ConversationId', UUID);
  const data = find(header, 'MessageData');
  const messageId = requireId(text(data && find(data, 'MessageId')), 'the ebXML MessageId');
  const ref = text(data && find(data, 'RefToMessageId'));
  const attachments = list(record['attachments'], 'attachments').map((item, index) =>
    parseInline(item, index, options.maxAttachmentChars ?? DEFAULT_ATTACHMENT_CHARS),
  );
  const externalAttachments = list(record['external_attachments'], 'external_attachments').map(parseExternal);
  return {
    conversationId: conversationId.toLowerCase(),
    messageId: messageId.toUpperCase(),
    refToMessageId: ref === null ? null : requireId(ref, 'the ebXML RefToMessageId').toUpperCase(),
    action: action as MhsAction,
    fromParty: text(find(header, 'From', 'PartyId')),
    toParty: text(find(header, 'To', 'PartyId')),
    payload,
    hl7,
    attachments,
    externalAttachments: externalAttachments.map((item) => ({ ...item, messageId: item.messageId.toUpperCase() })),
  };
}

/**
 * The bytes of an attachment carried in a message: base64 as MIME reads it (characters outside the alphabet,
 * such as line breaks, are skipped; the fixtures' separators are quotes), or the text itself as UTF-8. A
 * base64 body whose length or padding is wrong is corrupt: null.
 */
export function attachmentBytes(attachment: InlineAttachment): Buffer | null {
  if (!attachment.isBase64) return Buffer.from(attachment.payload, 'utf8');
  const clean = attachment.payload.replace(/[^A-Za-z0-9+/=]/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  return Buffer.from(clean, 'base64');
}

/** The facts gp2gp needs from an EHR extract: the patient's NHS number and the sending organisation. */
export function extractFacts(message: MhsMessage): { nhsNumber: string | null; authorOds: string | null } {
  const extract = find(message.hl7, 'EhrExtract');
  if (!extract) fail('the RCMR_IN030000UK06 has no EhrExtract');
  const patient = find(extract, 'recordTarget', 'patient', 'id')?.attributes['extension'] ?? null;
  const author = find(extract, 'author', 'agentOrganizationSDS', 'id')?.attributes['extension'] ?? null;
  return { nhsNumber: patient, authorOds: author };
}

/** A negative acknowledgement's reason code (AE or AR), or null for an acceptance. */
export function acknowledgementReason(message: MhsMessage): { typeCode: string; reasonCode: string | null } {
  const ack = find(message.hl7, 'acknowledgement');
  const typeCode = ack?.attributes['typeCode'];
  if (!typeCode || !['AA', 'AE', 'AR'].includes(typeCode)) fail('the acknowledgement has no typeCode AA, AE or AR');
  const codes = findAll(message.hl7, 'justifyingDetectedIssueEvent')
    .map((event) => event.children.find((child) => child.name === 'code')?.attributes['code'])
    .filter((code): code is string => typeof code === 'string');
  return { typeCode, reasonCode: codes[0] ?? null };
}
