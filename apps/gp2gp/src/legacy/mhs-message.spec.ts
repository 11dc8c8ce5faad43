import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { referencePath } from '@platform/shared-testing';
import {
  acknowledgementReason,
  attachmentBytes,
  extractFacts,
  MhsMessageError,
  parseDescription,
  parseMhsMessage,
} from './mhs-message';
import { fixture, LARGE_MESSAGE } from './legacy-fixtures.test-harness';
import { find, parseXml, XmlError } from './xml';

const conversationId = '0F1E2D3C-4B5A-4697-8877-665544332211';

describe('the strict XML reader', () => {
  it('reads elements by local name, attributes, text and entities', () => {
    const root = parseXml(
      '<?xml version="1.0"?><!-- c --><a:Root xmlns:a="x"><b id=\'1\' a:v="&lt;&amp;&#65;&#x42;"/><c>t &gt; <![CDATA[<raw>]]></c></a:Root>',
    );
    expect(root.name).toBe('Root');
    expect(find(root, 'b')?.attributes).toEqual({ id: '1', 'a:v': '<&AB', v: '<&AB' });
    expect(find(root, 'c')?.text).toBe('t > <raw>');
  });

  it.each([
    ['an unclosed element', '<a><b></a>'],
    ['an end tag closing nothing', '<a></a></b>'],
    ['two roots', '<a/><b/>'],
    ['a document type declaration', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'],
    ['an unknown entity', '<a>&x;</a>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['an unquoted attribute', '<a b=1></a>'],
    ['a duplicated attribute', '<a b="1" b="2"></a>'],
    ['text outside the root', 'x<a></a>'],
    ['nothing', ''],
    ['an unterminated comment', '<a><!-- </a>'],
    ['elements nested too deep', `${'<a>'.repeat(200)}${'</a>'.repeat(200)}`],
    ['an unterminated start tag', '<a b="1"'],
  ])('refuses %s with an XmlError', (_case, xml) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
  });

  it('never throws anything but an XmlError, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseXml(`<a>${text}</a>`);
        } catch (error) {
          expect(error).toBeInstanceOf(XmlError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the MHS inbound message parser', () => {
  it('reads every large-message fixture: conversation, message ID, action, attachments', () => {
    const folders = readdirSync(referencePath(...LARGE_MESSAGE), { withFileTypes: true }).filter((entry) =>
      entry.isDirectory(),
    );
    const seen: string[] = [];
    for (const folder of folders) {
      for (const file of readdirSync(referencePath(...LARGE_MESSAGE, folder.name))) {
        const message = parseMhsMessage(fixture(conversationId, folder.name, file));
        expect(message.conversationId).toBe(conversationId.toLowerCase());
        seen.push(`${folder.name}/${file}:${message.action}`);
      }
    }
    expect(seen.sort()).toEqual([
      'NewError/copc_error_missing_attachment.json:COPC_IN000001UK01',
      'NewError/uk06.json:RCMR_IN030000UK06',
      'Scenario_1/uk06.json:RCMR_IN030000UK06',
      'Scenario_2/uk06.json:RCMR_IN030000UK06',
      'Scenario_3/copc.json:COPC_IN000001UK01',
      'Scenario_3/uk06.json:RCMR_IN030000UK06',
      'Scenario_4/copc0.json:COPC_IN000001UK01',
      'Scenario_4/copc1.json:COPC_IN000001UK01',
      'Scenario_4/copc_index.json:COPC_IN000001UK01',
      'Scenario_4/uk06.json:RCMR_IN030000UK06',
    ]);
  });

  it('reads the extract: message ID, external attachment and its description, NHS number, author', () => {
    const message = parseMhsMessage(fixture(conversationId, 'Scenario_4', 'uk06.json'));
    expect(message).toMatchObject({ messageId: expect.stringMatching(/^[0-9A-F-]+$/), fromParty: 'RHM-801710' });
    expect(message.externalAttachments).toEqual([
      {
        documentId: '7CCB6A77-360E-434E-8CF4-97C7C2B47D70',
        messageId: 'E39E79A2-FA96-48FF-9373-7BBCB9D036E7',
        title: '7CCB6A77-360E-434E-8CF4-97C7C2B47D70_book.txt',
        description: {
          filename: '7CCB6A77-360E-434E-8CF4-97C7C2B47D70_book.txt',
          contentType: 'text/plain',
          compressed: false,
          largeAttachment: true,
          originalBase64: false,
        },
      },
    ]);
    expect(extractFacts(message)).toEqual({ nhsNumber: '9000000009', authorOds: 'B83002' });
  });

  it('reads the fragment index: the fragments it names, by their message IDs', () => {
    const message = parseMhsMessage(fixture(conversationId, 'Scenario_4', 'copc_index.json'));
    expect(message.messageId).toBe('E39E79A2-FA96-48FF-9373-7BBCB9D036E7');
    expect(message.externalAttachments.map((item) => item.messageId)).toEqual([
      '28B31-4245-4AFC-8DA2-8A40623A5101',
      '24AED038-FF3E-466D-820A-AE1B334D68EE',
    ]);
  });

  it('reads the acknowledgement fixtures: AE with reason 99, AA without', () => {
    const ack = (file: string): ReturnType<typeof acknowledgementReason> => {
      const payload = readFileSync(
        referencePath('eps-gp2gp', 'gp2gp', 'sending-adaptor', 'acknowledgements', file),
        'utf8',
      );
      const ebXML = fixture(conversationId, 'Scenario_3', 'copc.json').ebXML.replace(
        'COPC_IN000001UK01',
        'MCCI_IN010000UK13',
      );
      return acknowledgementReason(parseMhsMessage({ ebXML, payload }));
    };
    expect(ack('MCCI_IN010000UK13_body_AE.xml')).toEqual({ typeCode: 'AE', reasonCode: '99' });
    expect(ack('MCCI_IN010000UK13_body_AA.xml')).toMatchObject({ typeCode: 'AA' });
  });

  it('decodes base64 as MIME does, refuses a cut-short body, and keeps text that is not base64 as it is', () => {
    const description = parseDescription('');
    expect(attachmentBytes({ contentType: 'x/y', isBase64: true, description, payload: 'aGVs\r\nbG8="' })).toEqual(
      Buffer.from('hello'),
    );
    expect(attachmentBytes({ contentType: 'x/y', isBase64: true, description, payload: 'aGVsbG8' })).toBeNull();
    expect(attachmentBytes({ contentType: 'x/y', isBase64: true, description, payload: 'aG=VsbG8' })).toBeNull();
    expect(attachmentBytes({ contentType: 'x/y', isBase64: false, description, payload: 'é' })).toEqual(
      Buffer.from('é', 'utf8'),
    );
  });

  it.each<[string, unknown]>([
    ['not an object', 'text'],
    ['a list', []],
    ['null', null],
    ['an ebXML that is not text', { ebXML: 1, payload: '<a/>' }],
    [
      'a conversation ID that is not a UUID',
      {
        ...fixture(conversationId, 'Scenario_3', 'copc.json'),
        ebXML: fixture(conversationId, 'Scenario_3', 'copc.json').ebXML.replace(conversationId, 'abc'),
      },
    ],
    [
      'another service',
      {
        ...fixture(conversationId, 'Scenario_3', 'copc.json'),
        ebXML: fixture(conversationId, 'Scenario_3', 'copc.json').ebXML.replace('services:gp2gp', 'services:psis'),
      },
    ],
    [
      'an external attachment without a message ID',
      { ...fixture(conversationId, 'Scenario_3', 'uk06.json'), external_attachments: [{ document_id: 'A' }] },
    ],
    [
      'an attachment whose is_base64 is neither',
      {
        ...fixture(conversationId, 'Scenario_3', 'copc.json'),
        attachments: [{ content_type: 'a/b', is_base64: 'maybe', payload: '' }],
      },
    ],
  ])('refuses %s with an MhsMessageError', (_case, raw) => {
    expect(() => parseMhsMessage(raw)).toThrow(MhsMessageError);
  });
});
