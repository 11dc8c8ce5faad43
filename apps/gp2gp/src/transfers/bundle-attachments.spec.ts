import { attachmentsOf, TransferFailure } from './transfer-worker';

const ENDPOINT = 'http://practice.example:9480/A83008/fhir';
const NHS = '9000000009';

function bundle(documents: Record<string, unknown>[], nhsNumber = NHS): unknown {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
        },
      },
      ...documents.map((attachment, index) => ({
        resource: { resourceType: 'DocumentReference', id: `doc-${index}`, content: [{ attachment }] },
      })),
    ],
  };
}

function reasonOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return error instanceof TransferFailure ? error.reason : 'not a TransferFailure';
  }
  return undefined;
}

describe("the sending practice's structured record", () => {
  it('gives each DocumentReference an attachment with its fragment count (4.5 MB fragments)', () => {
    const attachments = attachmentsOf(
      bundle([
        { url: `${ENDPOINT}/Binary/1`, size: 4_500_000, contentType: 'application/pdf', title: 'Letter' },
        { url: `${ENDPOINT}/Binary/2`, size: 4_500_001, contentType: 'image/jpeg' },
        { url: `${ENDPOINT}/Binary/3`, size: 0 },
      ]),
      ENDPOINT,
      NHS,
      4_500_000,
    );
    expect(
      attachments.map((attachment) => [attachment.fragmentCount, attachment.contentType, attachment.title]),
    ).toEqual([
      [1, 'application/pdf', 'Letter'],
      [2, 'image/jpeg', null],
      [1, 'application/octet-stream', null],
    ]);
  });

  it.each<[string, unknown, string]>([
    ['not a Bundle', { resourceType: 'Patient' }, '21'],
    ['a Bundle without entries', { resourceType: 'Bundle' }, '21'],
    ['another patient’s record', bundle([], '9000000017'), '28'],
    [
      'an attachment on another host',
      bundle([{ url: 'http://elsewhere.example/A83008/fhir/Binary/1', size: 1 }]),
      '21',
    ],
    [
      'an attachment outside the practice’s provider',
      bundle([{ url: 'http://practice.example:9480/B81001/fhir/Binary/1', size: 1 }]),
      '21',
    ],
    ['an attachment without a size', bundle([{ url: `${ENDPOINT}/Binary/1` }]), '21'],
    ['an attachment with a negative size', bundle([{ url: `${ENDPOINT}/Binary/1`, size: -1 }]), '21'],
    ['an attachment address that is not a URL', bundle([{ url: 'not a url', size: 1 }]), '21'],
  ])('refuses %s with reason %s', (_case, record, reason) => {
    expect(reasonOf(() => attachmentsOf(record, ENDPOINT, NHS, 4_500_000))).toBe(reason);
  });
});
