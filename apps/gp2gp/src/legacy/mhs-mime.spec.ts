import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { referencePath } from '@platform/shared-testing';
import { asMime, fixture, type MhsJson } from './legacy-fixtures.test-harness';
import { attachmentBytes, MhsMessageError, parseMhsMessage } from './mhs-message';
import { mimeToMhsJson } from './mhs-mime';

const conversationId = '0F1E2D3C-4B5A-4697-8877-665544332211';

function same(json: MhsJson): void {
  const direct = parseMhsMessage(json);
  const wire = parseMhsMessage(mimeToMhsJson(asMime(json)));
  expect(wire.messageId).toBe(direct.messageId);
  expect(wire.action).toBe(direct.action);
  expect(wire.payload).toBe(direct.payload);
  // Compared by SHA-256: jest's deep equality walks a Buffer byte by byte.
  const digests = (message: typeof direct): (string | null)[] =>
    message.attachments.map((attachment) => {
      const bytes = attachmentBytes(attachment);
      return bytes && createHash('sha256').update(bytes).digest('hex');
    });
  expect(digests(wire)).toEqual(digests(direct));
  expect(wire.externalAttachments.map((item) => item.messageId)).toEqual(
    direct.externalAttachments.map((item) => item.messageId),
  );
}

describe('MHS messages as sent on the wire (multipart/related)', () => {
  it.each([
    ['Scenario_1', 'uk06.json'],
    ['Scenario_2', 'uk06.json'],
    ['Scenario_3', 'uk06.json'],
    ['Scenario_3', 'copc.json'],
    ['Scenario_4', 'copc_index.json'],
    ['Scenario_4', 'copc0.json'],
  ])('%s/%s reads the same as the MHS adaptor JSON of it', (folder, file) => {
    same(fixture(conversationId, folder, file));
  });

  it('reads the raw RCMR_IN030000UK06 fixture (ebxml.xml and payload.xml) with its inline and external attachments', () => {
    const folder = ['eps-gp2gp', 'gp2gp', 'requesting-adaptor', 'uk06-large-msg-xml'];
    const ebXML = readFileSync(referencePath(...folder, 'ebxml.xml'), 'utf8');
    const payload = readFileSync(referencePath(...folder, 'payload.xml'), 'utf8');
    const mime = [
      'Content-Type: multipart/related; boundary="b1"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"',
      '',
      '--b1',
      'Content-Id: <ebXMLHeader@spine.nhs.uk>',
      'Content-Type: text/xml',
      '',
      ebXML,
      '--b1',
      'Content-Id: <6e242659-3d8e-11e3-a7dc-172bda00fa67@spine.nhs.uk>',
      'Content-Type: application/xml',
      '',
      payload,
      '--b1',
      'Content-Id: <17C993E0-0302-4C3C-9608-7E4862193784>',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: base64',
      '',
      'aGVs',
      'bG8=',
      '--b1--',
    ].join('\r\n');
    const message = parseMhsMessage(mimeToMhsJson(mime));
    expect(message.action).toBe('RCMR_IN030000UK06');
    expect(message.attachments.map(attachmentBytes)).toEqual([Buffer.from('hello')]);
    expect(message.externalAttachments.map((item) => [item.documentId, item.messageId])).toEqual([
      ['1C135B3C-5AA5-4BF1-A08B-E6002455B806', '435B1171-31F6-4EF2-AD7F-C7E64EEFF357'],
      ['7CCB6A77-360E-434E-8CF4-97C7C2B47D70', 'E39E79A2-FA96-48FF-9373-7BBCB9D036E7'],
      ['8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4', 'A7B6C8EC-5AB4-4BF3-BB72-5D76E5D205A4'],
    ]);
  });

  it('reads a COPC whose manifest names no attachment as one that carries nothing (the NewError case on the wire)', () => {
    const json = fixture(conversationId, 'NewError', 'copc_error_missing_attachment.json');
    const bare = {
      ...json,
      ebXML: json.ebXML.replace(/<eb:Reference xlink:href="cid:27c75acf[\s\S]*?<\/eb:Reference>/, ''),
    };
    const message = parseMhsMessage(mimeToMhsJson(asMime(bare)));
    expect(message.attachments).toEqual([]);
    expect(message.externalAttachments).toEqual([]);
  });

  const copc = (): string => asMime(fixture(conversationId, 'Scenario_3', 'copc.json'));
  it.each<[string, () => string]>([
    ['an empty message', () => ''],
    ['a message that is not multipart/related', () => copc().replace('multipart/related', 'multipart/mixed')],
    ['no boundary', () => copc().replace(/; boundary="[^"]*"/, '')],
    ['no closing boundary', () => copc().replace(/----=_MIME-Boundary--\r\n$/, '')],
    [
      'a part the manifest does not name',
      () =>
        copc().replace(
          /----=_MIME-Boundary--\r\n$/,
          '----=_MIME-Boundary\r\nContent-Id: <x>\r\n\r\nextra\r\n----=_MIME-Boundary--\r\n',
        ),
    ],
    // The NewError COPC names an attachment it does not carry: on the wire that is a malformed message.
    [
      'a part the manifest names that is not there (NewError as sent)',
      () => asMime(fixture(conversationId, 'NewError', 'copc_error_missing_attachment.json')),
    ],
    [
      'a part the manifest names that is missing',
      () => copc().replace(/Content-Id: <27c75acf[^>]*>/, 'Content-Id: <other>'),
    ],
    [
      'a quoted-printable part',
      () => copc().replace('Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: quoted-printable'),
    ],
    ['a header line without a name', () => copc().replace('Content-Type: video/mpeg', 'no colon here')],
    ['no blank line after the headers', () => 'Content-Type: multipart/related; boundary=x'],
    ['an envelope that is not XML', () => copc().replace('<SOAP:Envelope', '<SOAP:Envelope <')],
  ])('refuses %s with an MhsMessageError', (_case, make) => {
    expect(() => parseMhsMessage(mimeToMhsJson(make()))).toThrow(MhsMessageError);
  });
});
