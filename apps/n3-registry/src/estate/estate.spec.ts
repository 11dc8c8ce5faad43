import { Readable } from 'node:stream';
import { readExtract } from '../imports/ods-csv';
import { estateConnections, estateOrganisation, generatedOdsCode, ipv4Block, odsExtractLine } from './estate';

describe('generated estate', () => {
  it('is the same for the same seed and different for another', () => {
    expect(estateOrganisation(41, 7)).toEqual(estateOrganisation(41, 7));
    expect(estateOrganisation(41, 7)).not.toEqual(estateOrganisation(41, 8));
    expect([...estateConnections(50, 40, 3)]).toEqual([...estateConnections(50, 40, 3)]);
  });

  it('carves one /27 per connection from 10.0.0.0/8, in order and never twice', () => {
    expect(ipv4Block(0)).toBe('10.0.0.0/27');
    expect(ipv4Block(1)).toBe('10.0.0.32/27');
    expect(ipv4Block(8)).toBe('10.0.1.0/27');
    expect(ipv4Block(524_287)).toBe('10.255.255.224/27');
    const blocks = [...estateConnections(2000, 1600, 1)].flatMap((connection) => connection.blocks);
    expect(new Set(blocks).size).toBe(blocks.length);
  });

  it('gives ceased connections no blocks, and uses codes ODS does not issue', () => {
    const connections = [...estateConnections(3000, 2400, 1)];
    expect(connections.some((connection) => connection.status === 'ceased')).toBe(true);
    expect(connections.filter((connection) => connection.status === 'ceased').every((c) => c.blocks.length === 0)).toBe(
      true,
    );
    expect(generatedOdsCode(0)).toBe('Z00001');
  });

  it('writes extract lines the importer reads back as the same organisations', async () => {
    const organisations = Array.from({ length: 200 }, (_, index) => estateOrganisation(index, 5));
    const text = organisations.map(odsExtractLine).join('\r\n');
    const { rows, rejected } = await readExtract(Readable.from([text]), 'pharmacy');
    expect(rejected).toEqual([]);
    expect(rows.map((row) => [row.odsCode, row.name, row.postcode, row.openDate])).toEqual(
      organisations.map((organisation) => [
        organisation.odsCode,
        organisation.name,
        organisation.postcode,
        organisation.openDate,
      ]),
    );
  });
});
