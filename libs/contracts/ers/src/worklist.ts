import type { FhirResource } from './payloads';

/**
 * A008's answer travels compactly over the bus (a provider's worklist runs to thousands of referrals, beyond
 * a NATS message as full FHIR); `worklistResource` turns it into the NHS eRS-FetchWorklist-List-1.
 */
export type WorklistRow<Instant extends string | number = string> = [
  ubrn: string,
  version: number,
  priority: string,
  specialty: string | null,
  nhsNumber: string,
  serviceId: string | null,
  state: string,
  pathwayStart: Instant | null,
  createdAt: Instant,
  updatedAt: Instant,
];

/**
 * The rows' dates are ISO 8601 text as they travel over the bus (`WorklistRow`), or epoch milliseconds
 * (`WorklistRow<number>`) as e-referrals reads them to write the List itself (`worklistBody` writes either).
 */
export interface WorklistReply<Instant extends string | number = string> {
  listType: string;
  total: number;
  rows: WorklistRow<Instant>[];
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

/** Bytes written one after another into one growing Buffer. */
class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(sizeHint: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, sizeHint));
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  /** Bytes encoded once (a fixed piece of an entry, or one made for a value many entries share). */
  bytes(segment: Buffer): void {
    this.room(segment.length);
    this.buffer.set(segment, this.length);
    this.length += segment.length;
  }

  /** Text as UTF-8 (a UTF-16 code unit is at most 3 bytes of UTF-8, so this much room always fits it). */
  text(value: string): void {
    this.room(value.length * 3);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  /** One ASCII character. */
  char(code: number): void {
    this.room(1);
    this.buffer[this.length++] = code;
  }

  /** Digits-only text (ASCII: each code unit its byte), copied without a call into the runtime. */
  digits(value: string): void {
    this.room(value.length);
    const buffer = this.buffer;
    let at = this.length;
    for (let index = 0; index < value.length; index += 1) buffer[at++] = value.charCodeAt(index);
    this.length = at;
  }

  /**
   * An instant given as epoch milliseconds, as JSON.stringify(new Date(ms).toISOString()) writes it: written
   * from its numbers for years 1970-9999 (the date from the day number, Howard Hinnant's civil_from_days), as
   * that text otherwise (before 1970, and the extended years past 9999).
   */
  instant(ms: number): void {
    if (!(ms >= 0 && ms < MAX_FOUR_DIGIT_YEAR_MS) || !Number.isInteger(ms)) {
      this.text(JSON.stringify(new Date(ms).toISOString()));
      return;
    }
    const days = Math.floor(ms / DAY_MS);
    let rest = ms - days * DAY_MS;
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const dayOfEra = z - era * 146097;
    const yearOfEra = Math.floor(
      (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
    );
    const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
    const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
    const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
    const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    this.room(26);
    const b = this.buffer;
    const at = this.length;
    // "YYYY-MM-DDTHH:MM:SS.mmmZ"
    b[at] = 0x22;
    twoDigits(b, at + 1, Math.floor(year / 100));
    twoDigits(b, at + 3, year % 100);
    b[at + 5] = 0x2d;
    twoDigits(b, at + 6, month);
    b[at + 8] = 0x2d;
    twoDigits(b, at + 9, day);
    b[at + 11] = 0x54;
    twoDigits(b, at + 12, hours);
    b[at + 14] = 0x3a;
    twoDigits(b, at + 15, minutes);
    b[at + 17] = 0x3a;
    twoDigits(b, at + 18, seconds);
    b[at + 20] = 0x2e;
    b[at + 21] = 0x30 + Math.floor(millis / 100);
    twoDigits(b, at + 22, millis % 100);
    b[at + 24] = 0x5a;
    b[at + 25] = 0x22;
    this.length = at + 26;
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** A number from 0 to 99 as two ASCII digits at `at`. */
function twoDigits(buffer: Buffer, at: number, value: number): void {
  buffer[at] = 0x30 + Math.floor(value / 10);
  buffer[at + 1] = 0x30 + (value % 10);
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here toISOString writes a six-digit year with its sign. */
const MAX_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;

/** About the bytes of one worklist entry, so the buffer seldom grows. */
const ENTRY_BYTES = 1300;

const DIGITS = /^[0-9]+$/;
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The fixed pieces of an entry, encoded once. */
const PIECES = {
  patientOpen: utf8('{"url":"patient","valueReference":{"reference":'),
  patientClose: utf8('}},'),
  pathwayStart: utf8('{"url":"eReferralPathwayStart","valueDateTime":'),
  created: utf8('},{"url":"referralCreated","valueDateTime":'),
  createdFirst: utf8('{"url":"referralCreated","valueDateTime":'),
  updated: utf8('},{"url":"referralLastUpdated","valueDateTime":'),
  dateClose: utf8('},'),
  ubrnOpen: utf8('"ReferralRequest/'),
  entryClose: utf8('"}}'),
  entryCloseQuoted: utf8('}}'),
  containedOpen: utf8('{"id":'),
  containedMiddle: utf8(
    ',"meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Patient-1"]},"resourceType":"Patient","identifier":[{"system":"http://fhir.nhs.net/Id/nhs-number","value":',
  ),
  containedClose: utf8('}]}'),
};

/** A value's piece, made and encoded the first time an entry needs it. */
function pieces<K>(make: (key: K) => string): (key: K) => Buffer {
  const made = new Map<K, Buffer>();
  return (key) => {
    let piece = made.get(key);
    if (piece === undefined) made.set(key, (piece = utf8(make(key))));
    return piece;
  };
}

/**
 * `JSON.stringify(worklistResource(reply))` as UTF-8, written directly: a 5,000-referral worklist is some 6 MB
 * of JSON. An entry's parts that few values share (its priority, specialty, referral type, service with its
 * name, version with the item's profile) are encoded once each and copied; the rest (the patient, the dates,
 * the UBRN) written straight into the Buffer, the dates from their epoch milliseconds when the rows carry them
 * so (`WorklistRow<number>`, as e-referrals reads them). No string is made for an entry: building each as text
 * and encoding it made 5,000 strings of 1.1 KB to collect (a third of e-referrals' 38 ms of CPU per worklist was
 * writing it, 18% collecting garbage).
 */
export function worklistBody(reply: WorklistReply<string> | WorklistReply<number>): Buffer {
  const q = JSON.stringify;
  const rows: readonly WorklistRow<string | number>[] = reply.rows;
  const out = new ByteWriter(rows.length * ENTRY_BYTES + 1024);
  out.text(
    '{"meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1"]},"resourceType":"List","contained":[',
  );
  const patients = [...new Set(rows.map((row) => row[4]))];
  patients.forEach((nhsNumber, index) => {
    if (index) out.char(0x2c);
    out.bytes(PIECES.containedOpen);
    out.text(q(`Patient-${nhsNumber}`));
    out.bytes(PIECES.containedMiddle);
    out.text(q(nhsNumber));
    out.bytes(PIECES.containedClose);
  });
  out.text('],"status":"current","mode":"snapshot","entry":[');
  const itemUrl = q(
    reply.listType === 'REFERRALS_FOR_REVIEW'
      ? 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralsforReview-WorkListItem-1'
      : 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AwaitingBooking-WorkListItem-1',
  );
  const priorityPiece = pieces(
    (priority: string) =>
      `{"extension":[{"extension":[{"url":"priority","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1","code":${q(priority)}}]}},`,
  );
  const specialtyPiece = pieces(
    (specialty: string) =>
      `{"url":"specialty","valueCodeableConcept":{"coding":[{"system":"_baseUrl_/STU3/CodeSystem/SPECIALTY","code":${q(specialty)}}]}},`,
  );
  const typePiece = pieces(
    (state: string) =>
      `},{"url":"referralType","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralType-1","code":${q(REFERRAL_TYPE[state] ?? state)}}]}},`,
  );
  const servicePiece = pieces(
    (serviceId: string) =>
      `{"url":"service","valueReference":{"identifier":{"system":"http://fhir.nhs.net/Id/ers-service","value":${q(serviceId)}},"display":${q(reply.services[serviceId] ?? '')}}},`,
  );
  const versionPiece = pieces(
    (version: number) =>
      `{"url":"referralRequestVersion","valueInteger":${q(version)}}],"url":${itemUrl}}],"item":{"reference":`,
  );
  const date = (value: string | number): void => (typeof value === 'number' ? out.instant(value) : out.text(q(value)));
  rows.forEach(
    ([ubrn, version, priority, specialty, nhsNumber, serviceId, state, pathwayStart, createdAt, updatedAt], index) => {
      if (index) out.char(0x2c);
      out.bytes(priorityPiece(priority));
      if (specialty) out.bytes(specialtyPiece(specialty));
      out.bytes(PIECES.patientOpen);
      out.text(q(`#Patient-${nhsNumber}`));
      out.bytes(PIECES.patientClose);
      // A date as text is written when it is not empty, as epoch milliseconds whenever there is one.
      if (typeof pathwayStart === 'number' || pathwayStart) {
        out.bytes(PIECES.pathwayStart);
        date(pathwayStart);
        out.bytes(PIECES.created);
      } else {
        out.bytes(PIECES.createdFirst);
      }
      date(createdAt);
      out.bytes(PIECES.updated);
      date(updatedAt);
      out.bytes(typePiece(state));
      if (serviceId) out.bytes(servicePiece(serviceId));
      out.bytes(versionPiece(version));
      if (DIGITS.test(ubrn)) {
        out.bytes(PIECES.ubrnOpen);
        out.digits(ubrn);
        out.bytes(PIECES.entryClose);
      } else {
        out.text(q(`ReferralRequest/${ubrn}`));
        out.bytes(PIECES.entryCloseQuoted);
      }
    },
  );
  out.text(']}');
  return out.done();
}
