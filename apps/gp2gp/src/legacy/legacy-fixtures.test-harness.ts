import { readFileSync } from 'node:fs';
import { referencePath } from '@platform/shared-testing';

/**
 * The NHS requesting adaptor's large-message fixtures (shared/reference/eps-gp2gp/gp2gp/requesting-adaptor,
 * from NHSDigital/integration-adaptor-gp2gp-requesting, MIT/OGL, synthetic data), with their placeholders
 * filled, and messages of the same shape built from them for tests of many fragments.
 */
export type MhsJson = Record<string, unknown> & { ebXML: string; payload: string };

export const LARGE_MESSAGE = ['eps-gp2gp', 'gp2gp', 'requesting-adaptor', 'large-message'];
/** The fixtures' practices: the extract's author (sender) and the fragments' recipient (requester). */
export const SENDING_ODS = 'B83002';
export const REQUESTING_ODS = 'C81007';
/** A valid test NHS number for the fixtures' `{{nhsNumber}}`. */
export const NHS_NUMBER = '9000000009';

export function fixtureText(...file: string[]): string {
  return readFileSync(referencePath(...LARGE_MESSAGE, ...file), 'utf8');
}

/** One fixture message for a conversation (the fixtures' ebXML carries `{{conversationId}}`). */
export function fixture(conversationId: string, ...file: string[]): MhsJson {
  return JSON.parse(
    fixtureText(...file)
      .replaceAll('{{conversationId}}', conversationId.toUpperCase())
      .replaceAll('{{nhsNumber}}', NHS_NUMBER),
  ) as MhsJson;
}

export function withMessageId(message: MhsJson, messageId: string): MhsJson {
  return {
    ...message,
    ebXML: message.ebXML.replace(/<eb:MessageId>[^<]*<\/eb:MessageId>/, `<eb:MessageId>${messageId}</eb:MessageId>`),
  };
}

/** A COPC carrying one fragment's bytes (the shape of Scenario_4/copc0.json). */
export function fragmentMessage(conversationId: string, messageId: string, bytes: Buffer): MhsJson {
  const template = withMessageId(fixture(conversationId, 'Scenario_4', 'copc0.json'), messageId);
  const [attachment] = template['attachments'] as Record<string, unknown>[];
  return { ...template, attachments: [{ ...attachment, payload: bytes.toString('base64') }] };
}

/** A COPC fragment index naming `fragmentIds` in order (the shape of Scenario_4/copc_index.json). */
export function indexMessage(conversationId: string, messageId: string, fragmentIds: string[]): MhsJson {
  const template = withMessageId(fixture(conversationId, 'Scenario_4', 'copc_index.json'), messageId);
  const description = (index: number): string =>
    `Filename="${messageId}_${index}.messageattachment" ContentType=text/plain Compressed=No LargeAttachment=No OriginalBase64=No`;
  // The manifest names the same fragments (the MIME form is read from it).
  const references = fragmentIds
    .map(
      (id, index) =>
        `<eb:Reference xlink:href="mid:${id}"> <eb:Description xml:lang="en"> ${description(index)} </eb:Description> </eb:Reference>`,
    )
    .join(' ');
  return {
    ...template,
    ebXML: template.ebXML.replace(
      /<eb:Reference xlink:href="mid:[\s\S]*<\/eb:Reference>(\s*<\/eb:Manifest>)/,
      `${references}$1`,
    ),
    external_attachments: fragmentIds.map((id, index) => ({
      document_id: messageId,
      message_id: id,
      title: `${messageId}_${index}.messageattachment`,
      description: description(index),
    })),
  };
}

/** An EHR extract (Scenario_4/uk06.json) whose one large attachment is carried by the message `indexId`. */
export function extractMessage(conversationId: string, indexId: string): MhsJson {
  const template = fixture(conversationId, 'Scenario_4', 'uk06.json');
  const [external] = template['external_attachments'] as Record<string, unknown>[];
  return {
    ...template,
    // The manifest names the same index (the MIME form is read from it).
    ebXML: template.ebXML.replace(`mid:${String(external['message_id'])}"`, `mid:${indexId}"`),
    external_attachments: [{ ...external, message_id: indexId }],
  };
}

/** What the NHS adaptor stores for an attachment: the carried text of each part, concatenated. */
export function carriedText(...messages: MhsJson[]): string {
  return messages.map((message) => (message['attachments'] as { payload: string }[])[0].payload).join('');
}

const BOUNDARY = '--=_MIME-Boundary';

/**
 * The same message as an MHS sends it: `multipart/related`, the ebXML envelope first, then the HL7 payload and
 * each inline attachment under the Content-Id its manifest names (base64 in 76-character lines).
 */
export function asMime(message: MhsJson): string {
  const cids = [...message.ebXML.matchAll(/xlink:href="cid:([^"]+)"/g)].map((match) => match[1]);
  const [payloadCid, ...attachmentCids] = cids;
  const attachments = (message['attachments'] as { content_type: string; is_base64: string; payload: string }[]) ?? [];
  const part = (id: string, type: string, encoding: string, body: string): string =>
    [
      `--${BOUNDARY}`,
      `Content-Id: <${id}>`,
      `Content-Type: ${type}`,
      `Content-Transfer-Encoding: ${encoding}`,
      '',
      body,
    ].join('\r\n');
  const lines = (text: string): string => text.match(/.{1,76}/g)?.join('\r\n') ?? '';
  return [
    `Content-Type: multipart/related; boundary="${BOUNDARY}"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`,
    '',
    part('ebXMLHeader@spine.nhs.uk', 'text/xml; charset=UTF-8', '8bit', message.ebXML),
    part(payloadCid, 'application/xml; charset=UTF-8', '8bit', message.payload),
    ...attachments.map((attachment, index) =>
      attachment.is_base64 === 'true'
        ? part(attachmentCids[index], attachment.content_type, 'base64', lines(attachment.payload))
        : part(attachmentCids[index], attachment.content_type, '8bit', attachment.payload),
    ),
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');
}
