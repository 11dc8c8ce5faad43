import { Readable } from 'node:stream';
import { csvField, csvLine, ODS_COLUMNS, readExtract } from './ods-csv';
import { odsLine } from './ods-extract.test-harness';

const read = (text: string, today = '2026-11-24'): ReturnType<typeof readExtract> =>
  readExtract(Readable.from([text]), 'gp-practice', { today });

describe('reading an ODS extract', () => {
  it('maps the standard columns: code, name, five address lines, postcode, dates, status, parent, telephone', async () => {
    const { rows, rejected } = await read(`${odsLine('A83008', 'HALLGARTH SURGERY')}\n`);
    expect(rejected).toEqual([]);
    expect(rows).toEqual([
      {
        odsCode: 'A83008',
        name: 'HALLGARTH SURGERY',
        role: 'gp-practice',
        status: 'active',
        openDate: '1974-04-01',
        closeDate: null,
        addressLines: ['CHEAPSIDE', 'SHILDON', 'COUNTY DURHAM'],
        postcode: 'DL4 2HP',
        parentOdsCode: '84H',
        telephone: '01388 772000',
      },
    ]);
  });

  it('names the line and the reason of every bad row, and keeps the good ones', async () => {
    const lines = [
      odsLine('A83008', 'HALLGARTH SURGERY'),
      odsLine('A8300!', 'BAD CODE'),
      odsLine('B81001', 'NO DATE', { 10: '2019-01-01' }),
      odsLine('B81002', 'NOT A DAY', { 10: '20190231' }),
      odsLine('B81003', 'CLOSED BEFORE OPEN', { 10: '20200101', 11: '20190101' }),
      odsLine('B81004', 'BAD POSTCODE', { 9: 'LS15' }),
      odsLine('B81005', 'BAD STATUS', { 12: 'X' }),
      '"B81006","TOO FEW COLUMNS"',
      odsLine('A83008', 'HALLGARTH AGAIN'),
      odsLine('C81007', 'VERNON STREET MEDICAL CTR', { 9: 'de1 1fw' }),
    ];
    const { rows, rejected } = await read(`${lines.join('\n')}\n`);
    expect(rows.map((row) => row.odsCode)).toEqual(['A83008', 'C81007']);
    expect(rows[1]?.postcode).toBe('DE1 1FW');
    expect(rejected).toEqual([
      { line: 2, reason: "organisation code 'A8300!' is not an ODS code (3 to 6 letters or digits)" },
      { line: 3, odsCode: 'B81001', reason: "open date '2019-01-01' is not a date in YYYYMMDD form" },
      { line: 4, odsCode: 'B81002', reason: "open date '20190231' is not a calendar date" },
      { line: 5, odsCode: 'B81003', reason: 'close date 2019-01-01 is before open date 2020-01-01' },
      { line: 6, odsCode: 'B81004', reason: "postcode 'LS15' is not a UK postcode" },
      { line: 7, odsCode: 'B81005', reason: "status 'X' is not A, C, D or P" },
      { line: 8, reason: 'expected 27 columns (the ODS standard layout), found 2' },
      { line: 9, odsCode: 'A83008', reason: 'organisation code A83008 already appears on line 1' },
    ]);
  });

  it('rejects a record with broken quoting by its line and reads on', async () => {
    const text = [
      odsLine('A83008', 'HALLGARTH SURGERY'),
      `"B81001","BROKEN "QUOTE" HERE",${'"",'.repeat(24)}""`,
      odsLine('C81007', 'VERNON'),
    ].join('\n');
    const { rows, rejected } = await read(`${text}\n`);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/^broken CSV: /) as unknown });
    expect(rows.map((row) => row.odsCode)).toEqual(['A83008', 'C81007']);
  });

  it('skips a header line and derives the status from the close date when the extract has no status column', async () => {
    const header = ['Organisation Code', 'Name', ...Array.from({ length: ODS_COLUMNS - 2 }, (_, i) => `c${i}`)].join(
      ',',
    );
    const text = [
      header,
      odsLine('FA565', 'ASDA INSTORE PHARMACY', { 12: '', 11: '20200101' }),
      odsLine('FCG72', 'PHARMACY', { 12: '' }),
    ];
    const { rows, rejected, lines } = await read(`${text.join('\r\n')}\r\n`);
    expect(rejected).toEqual([]);
    expect(lines).toBe(3);
    expect(rows.map((row) => [row.odsCode, row.status])).toEqual([
      ['FA565', 'closed'],
      ['FCG72', 'active'],
    ]);
  });

  it('rejects a line holding a NUL character (PostgreSQL text cannot store it) and keeps the others', async () => {
    const text = [odsLine('A83008', 'HALLGARTH SURGERY'), odsLine('B81001', 'NUL\0SURGERY')].join('\n');
    const { rows, rejected } = await read(`${text}\n`);
    expect(rows.map((row) => row.odsCode)).toEqual(['A83008']);
    expect(rejected).toEqual([{ line: 2, reason: 'column 2 holds a NUL character' }]);
  });
});

describe('writing CSV', () => {
  it.each(["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1:A2)', '\t=1', '\r=1'])(
    'neutralises the formula %j with a leading apostrophe',
    (value) => {
      expect(csvField(value)).toBe(`"'${value}"`);
    },
  );

  it('quotes every field, doubles quotes, and leaves ordinary text as it is', () => {
    expect(csvLine(['A83008', 'ST. MARY\'S "OLD" SURGERY', 'LS1 1AA', ''])).toBe(
      '"A83008","ST. MARY\'S ""OLD"" SURGERY","LS1 1AA",""',
    );
  });

  it('writes a formula imported as a name back out as text, which reading again keeps as text', async () => {
    const written = csvLine(
      Array.from({ length: ODS_COLUMNS }, (_, index) =>
        index === 0 ? 'A83008' : index === 1 ? '=HYPERLINK("http://x")' : index === 10 ? '19740401' : '',
      ),
    );
    expect(written.startsWith('"A83008","\'=HYPERLINK(""http://x"")"')).toBe(true);
    const { rows } = await read(`${written}\n`);
    expect(rows[0]?.name).toBe('\'=HYPERLINK("http://x")');
  });
});
