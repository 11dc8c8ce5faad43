import type { FhirResource } from './payloads';

/**
 * A008's answer travels compactly over the bus (a provider's worklist runs to thousands of referrals, beyond
 * a NATS message as full FHIR); `worklistResource` turns it into the NHS eRS-FetchWorklist-List-1.
 */
export type WorklistRow = [
  ubrn: string,
  version: number,
  priority: string,
  specialty: string | null,
  nhsNumber: string,
  serviceId: string | null,
  state: string,
  pathwayStart: string | null,
  createdAt: string,
  updatedAt: string,
];

export interface WorklistReply {
  listType: string;
  total: number;
  rows: WorklistRow[];
  /** Service id -> name, for the rows' services. */
  services: Record<string, string>;
}

const REFERRAL_TYPE: Record<string, string> = {
  BOOKED: 'APPOINTMENT',
  AWAITING_TRIAGE: 'TRIAGE_DEFERRAL',
  DEFERRED_TO_PROVIDER: 'BOOKING_DEFERRAL',
  ACCEPTED: 'BOOKING_DEFERRAL',
  TRIAGED_PROVIDER_TO_ACTION: 'BOOKING_DEFERRAL',
};

export function worklistResource(reply: WorklistReply): FhirResource {
  const patients = [...new Set(reply.rows.map((row) => row[4]))];
  return {
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1'] },
    resourceType: 'List',
    contained: patients.map((nhsNumber) => ({
      id: `Patient-${nhsNumber}`,
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Patient-1'] },
      resourceType: 'Patient',
      identifier: [{ system: 'http://fhir.nhs.net/Id/nhs-number', value: nhsNumber }],
    })),
    status: 'current',
    mode: 'snapshot',
    entry: reply.rows.map(
      ([ubrn, version, priority, specialty, nhsNumber, serviceId, state, pathwayStart, createdAt, updatedAt]) => ({
        extension: [
          {
            extension: [
              {
                url: 'priority',
                valueCodeableConcept: {
                  coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: priority }],
                },
              },
              ...(specialty
                ? [
                    {
                      url: 'specialty',
                      valueCodeableConcept: {
                        coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: specialty }],
                      },
                    },
                  ]
                : []),
              { url: 'patient', valueReference: { reference: `#Patient-${nhsNumber}` } },
              ...(pathwayStart ? [{ url: 'eReferralPathwayStart', valueDateTime: pathwayStart }] : []),
              { url: 'referralCreated', valueDateTime: createdAt },
              { url: 'referralLastUpdated', valueDateTime: updatedAt },
              {
                url: 'referralType',
                valueCodeableConcept: {
                  coding: [
                    {
                      system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralType-1',
                      code: REFERRAL_TYPE[state] ?? state,
                    },
                  ],
                },
              },
              ...(serviceId
                ? [
                    {
                      url: 'service',
                      valueReference: {
                        identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId },
                        display: reply.services[serviceId] ?? '',
                      },
                    },
                  ]
                : []),
              { url: 'referralRequestVersion', valueInteger: version },
            ],
            url:
              reply.listType === 'REFERRALS_FOR_REVIEW'
                ? 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralsforReview-WorkListItem-1'
                : 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AwaitingBooking-WorkListItem-1',
          },
        ],
        item: { reference: `ReferralRequest/${ubrn}` },
      }),
    ),
  };
}

/** Writes strings one after another into one growing Buffer as UTF-8. */
class Utf8Writer {
  private buffer: Buffer;
  private length = 0;

  constructor(sizeHint: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, sizeHint));
  }

  /**
   * `ascii`: the caller knows the text is ASCII only, whose UTF-8 is its Latin-1, which V8 copies without
   * encoding (several times faster on a long entry).
   */
  write(text: string, ascii = false): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8, so this much room always fits the text.
    const room = ascii ? text.length : text.length * 3;
    if (this.length + room > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + room));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    this.length += this.buffer.write(text, this.length, ascii ? 'latin1' : 'utf8');
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const NOT_ASCII = /[\u0080-\uffff]/;
const isAscii = (value: string | null): boolean => value === null || !NOT_ASCII.test(value);

/** About the bytes of one worklist entry, so the buffer seldom grows. */
const ENTRY_BYTES = 1300;

/**
 * `JSON.stringify(worklistResource(reply))` as UTF-8, written directly: a 5,000-referral worklist is some 6 MB
 * of JSON. Building it as text skips the tens of thousands of objects the resource would be made of, and
 * writing each entry into one Buffer as it is made skips joining 5,000 strings into one (and flattening that
 * string again to encode it for the socket), which took more CPU than making the entries (CPU profile of the
 * ers benchmark: the gateway spent 175 ms of CPU per worklist, a third of it collecting garbage).
 */
export function worklistBody(reply: WorklistReply): Buffer {
  const q = JSON.stringify;
  const out = new Utf8Writer(reply.rows.length * ENTRY_BYTES + 1024);
  out.write(
    '{"meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1"]},"resourceType":"List","contained":[',
  );
  const patients = [...new Set(reply.rows.map((row) => row[4]))];
  patients.forEach((nhsNumber, index) =>
    out.write(
      `${index ? ',' : ''}{"id":${q(`Patient-${nhsNumber}`)},"meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Patient-1"]},"resourceType":"Patient","identifier":[{"system":"http://fhir.nhs.net/Id/nhs-number","value":${q(nhsNumber)}}]}`,
    ),
  );
  out.write('],"status":"current","mode":"snapshot","entry":[');
  const itemUrl = q(
    reply.listType === 'REFERRALS_FOR_REVIEW'
      ? 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralsforReview-WorkListItem-1'
      : 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AwaitingBooking-WorkListItem-1',
  );
  const asciiNames = new Map<string, boolean>();
  const asciiName = (serviceId: string): boolean => {
    let known = asciiNames.get(serviceId);
    if (known === undefined) asciiNames.set(serviceId, (known = isAscii(reply.services[serviceId] ?? '')));
    return known;
  };
  reply.rows.forEach(
    ([ubrn, version, priority, specialty, nhsNumber, serviceId, state, pathwayStart, createdAt, updatedAt], index) =>
      out.write(
        (index ? ',' : '') +
          `{"extension":[{"extension":[` +
          `{"url":"priority","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1","code":${q(priority)}}]}},` +
          (specialty
            ? `{"url":"specialty","valueCodeableConcept":{"coding":[{"system":"_baseUrl_/STU3/CodeSystem/SPECIALTY","code":${q(specialty)}}]}},`
            : '') +
          `{"url":"patient","valueReference":{"reference":${q(`#Patient-${nhsNumber}`)}}},` +
          (pathwayStart ? `{"url":"eReferralPathwayStart","valueDateTime":${q(pathwayStart)}},` : '') +
          `{"url":"referralCreated","valueDateTime":${q(createdAt)}},` +
          `{"url":"referralLastUpdated","valueDateTime":${q(updatedAt)}},` +
          `{"url":"referralType","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralType-1","code":${q(REFERRAL_TYPE[state] ?? state)}}]}},` +
          (serviceId
            ? `{"url":"service","valueReference":{"identifier":{"system":"http://fhir.nhs.net/Id/ers-service","value":${q(serviceId)}},"display":${q(reply.services[serviceId] ?? '')}}},`
            : '') +
          `{"url":"referralRequestVersion","valueInteger":${q(version)}}` +
          `],"url":${itemUrl}}],"item":{"reference":${q(`ReferralRequest/${ubrn}`)}}}`,
        // Everything else in an entry is ASCII: the fixed text, digits, dates and what JSON.stringify escapes.
        isAscii(ubrn) &&
          isAscii(priority) &&
          isAscii(specialty) &&
          isAscii(nhsNumber) &&
          isAscii(state) &&
          isAscii(pathwayStart) &&
          isAscii(createdAt) &&
          isAscii(updatedAt) &&
          (serviceId === null || (isAscii(serviceId) && asciiName(serviceId))),
      ),
  );
  out.write(']}');
  return out.done();
}
