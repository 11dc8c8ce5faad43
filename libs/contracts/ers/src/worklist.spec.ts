import { worklistBody, worklistResource, type WorklistReply, type WorklistRow } from './worklist';

/** The body as text, to hold it to JSON.stringify. */
const worklistJson = (reply: WorklistReply): string => worklistBody(reply).toString('utf8');

describe('worklistBody', () => {
  const rows: WorklistRow[] = [
    [
      '000000000001',
      2,
      'ROUTINE',
      'CARDIOLOGY',
      '9000000009',
      '50000001',
      'BOOKED',
      '2026-01-02T03:04:05.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ],
    [
      '000000000002',
      1,
      'URGENT',
      null,
      '9000000009',
      null,
      'AWAITING_TRIAGE',
      null,
      '2026-02-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ],
    [
      '000000000003',
      7,
      'TWO_WEEK_WAIT',
      'GYNAECOLOGY',
      '9000000017',
      '50000002',
      'SOMETHING_ELSE',
      null,
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
    ],
  ];
  const services = { '50000001': 'Cardiology "Rapid" Access \\ Clinic\n' };

  it.each(['REFERRALS_FOR_REVIEW', 'AWAITING_BOOKING'])(
    'writes exactly what JSON.stringify(worklistResource) writes (%s)',
    (listType) => {
      const reply: WorklistReply = { listType, total: rows.length, rows, services };
      expect(worklistJson(reply)).toBe(JSON.stringify(worklistResource(reply)));
      expect(JSON.parse(worklistJson(reply))).toEqual(worklistResource(reply));
    },
  );

  it('an empty worklist too', () => {
    const reply: WorklistReply = { listType: 'AWAITING_BOOKING', total: 0, rows: [], services: {} };
    expect(worklistJson(reply)).toBe(JSON.stringify(worklistResource(reply)));
  });

  it('writes UTF-8 beyond its first buffer, multi-byte text included', () => {
    const many: WorklistRow[] = Array.from({ length: 3000 }, (_, index) => [
      String(index).padStart(12, '0'),
      index,
      'ROUTINE',
      index % 7 ? 'CARDIOLOGY' : 'CARDIOLOGÍA',
      String(9000000000 + (index % 700)),
      String(50000000 + (index % 40)),
      'BOOKED',
      null,
      '2026-01-01T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
    const names = Object.fromEntries(
      // Every other name ASCII only (written as Latin-1), the rest with 2-, 3- and 4-byte UTF-8.
      Array.from({ length: 40 }, (_, index) => [
        String(50000000 + index),
        index % 2 ? `Clinic "${index}" \\ ${'x'.repeat(400)}` : `Clinique é ${'€'.repeat(400)} 🏥 ${index}`,
      ]),
    );
    const reply: WorklistReply = { listType: 'REFERRALS_FOR_REVIEW', total: many.length, rows: many, services: names };
    const body = worklistBody(reply);
    expect(body.length).toBeGreaterThan(many.length * 1300);
    expect(body.equals(Buffer.from(JSON.stringify(worklistResource(reply)), 'utf8'))).toBe(true);
  });

  it('writes dates given as epoch milliseconds as the ISO text of the same instants', () => {
    // Boundaries (1970, leap days, the turn of centuries, the last four-digit year, before 1970) and 2,000 more.
    const instants = [
      0,
      1,
      999,
      -1,
      -86_400_001,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 12, 0, 0, 5),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1),
      Date.UTC(1066, 9, 14, 9, 30),
      ...Array.from({ length: 2000 }, (_, index) => Math.floor(((index * 7919) % 2000) * 1.9e11 - 5e12) + index),
    ];
    const iso = (ms: number): string => new Date(ms).toISOString();
    const asMs: WorklistRow<number>[] = instants.map((ms, index) => [
      String(index).padStart(12, '0'),
      1,
      'ROUTINE',
      null,
      '9000000009',
      null,
      'BOOKED',
      index % 3 ? ms : null,
      ms,
      instants[instants.length - 1 - index] ?? 0,
    ]);
    const asText: WorklistRow[] = asMs.map(
      ([ubrn, version, priority, specialty, nhs, service, state, start, created, updated]) => [
        ubrn,
        version,
        priority,
        specialty,
        nhs,
        service,
        state,
        start === null ? null : iso(start),
        iso(created),
        iso(updated),
      ],
    );
    const services = {};
    const written = worklistBody({ listType: 'AWAITING_BOOKING', total: asMs.length, rows: asMs, services });
    expect(
      written.equals(worklistBody({ listType: 'AWAITING_BOOKING', total: asText.length, rows: asText, services })),
    ).toBe(true);
    expect(written.toString('utf8')).toBe(
      JSON.stringify(worklistResource({ listType: 'AWAITING_BOOKING', total: asText.length, rows: asText, services })),
    );
  });
});
