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
  return {
    ...template,
    external_attachments: fragmentIds.map((id, index) => ({
      document_id: messageId,
      message_id: id,
      title: `${messageId}_${index}.messageattachment`,
      description: `Filename="${messageId}_${index}.messageattachment" ContentType=text/plain Compressed=No LargeAttachment=No OriginalBase64=No`,
    })),
  };
}

/** An EHR extract (Scenario_4/uk06.json) whose one large attachment is carried by the message `indexId`. */
export function extractMessage(conversationId: string, indexId: string): MhsJson {
  const template = fixture(conversationId, 'Scenario_4', 'uk06.json');
  const [external] = template['external_attachments'] as Record<string, unknown>[];
  return { ...template, external_attachments: [{ ...external, message_id: indexId }] };
}

/** What the NHS adaptor stores for an attachment: the carried text of each part, concatenated. */
export function carriedText(...messages: MhsJson[]): string {
  return messages.map((message) => (message['attachments'] as { payload: string }[])[0].payload).join('');
}
