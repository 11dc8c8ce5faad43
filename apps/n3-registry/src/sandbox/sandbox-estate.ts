import type { OrganisationRole, OrganisationStatus } from '@platform/contracts-n3';
import { withTransaction, type ServiceDatabase } from '@platform/shared-persistence';

interface SandboxOrganisation {
  odsCode: string;
  name: string;
  role: OrganisationRole;
  addressLines: string[];
  postcode: string | null;
  parentOdsCode?: string;
  status?: OrganisationStatus;
}

/**
 * The organisations the NHS reference payloads (`shared/reference/`) use, so that a prescription or a
 * transfer taken from them finds its prescriber, pharmacy or practice. Names and addresses are the ones those
 * payloads give; where a payload gives only the code, the name says so.
 */
export const SANDBOX_ORGANISATIONS: SandboxOrganisation[] = [
  {
    odsCode: 'A83008',
    name: 'HALLGARTH SURGERY',
    role: 'gp-practice',
    addressLines: ['HALLGARTH SURGERY', 'CHEAPSIDE', 'SHILDON', 'COUNTY DURHAM'],
    postcode: 'DL4 2HP',
    parentOdsCode: '84H',
  },
  { odsCode: 'B81001', name: 'GP PRACTICE B81001', role: 'gp-practice', addressLines: [], postcode: null },
  { odsCode: 'B82617', name: 'GP PRACTICE B82617', role: 'gp-practice', addressLines: [], postcode: null },
  {
    odsCode: 'B83002',
    name: 'ILKLEY AND WHARFEDALE MEDICAL PRACTICE',
    role: 'gp-practice',
    addressLines: [],
    postcode: null,
  },
  {
    odsCode: 'C81007',
    name: 'VERNON STREET MEDICAL CTR',
    role: 'gp-practice',
    addressLines: ['13 VERNON STREET', 'DERBY', 'DERBYSHIRE'],
    postcode: 'DE1 1FW',
    parentOdsCode: '5EX',
  },
  { odsCode: 'H81109', name: 'GP PRACTICE H81109', role: 'gp-practice', addressLines: [], postcode: null },
  { odsCode: 'Y12345', name: 'GP PRACTICE Y12345', role: 'gp-practice', addressLines: [], postcode: null },
  { odsCode: 'A20047', name: 'GP PRACTICE A20047', role: 'gp-practice', addressLines: [], postcode: null },
  {
    odsCode: 'VNE51',
    name: 'THE SIMPLE PHARMACY',
    role: 'pharmacy',
    addressLines: ['17 AUSTHORPE ROAD', 'CROSSGATES', 'LEEDS', 'WEST YORKSHIRE'],
    postcode: 'LS15 8BA',
  },
  {
    odsCode: 'VNFKT',
    name: 'THE SIMPLE PHARMACY (VNFKT)',
    role: 'pharmacy',
    addressLines: ['17 AUSTHORPE ROAD', 'CROSSGATES', 'LEEDS', 'WEST YORKSHIRE'],
    postcode: 'LS15 8BA',
  },
  { odsCode: 'VNCEL', name: 'YORKSHIRE HOMECARE LIMITED', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FCG72', name: 'PHARMACY FCG72', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FCG71', name: 'PHARMACY FCG71', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FCG75', name: 'PHARMACY FCG75', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FA565', name: 'ASDA INSTORE PHARMACY', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FA553', name: 'PHARMACY FA553', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FA666', name: 'CROYDON PHARMACY', role: 'pharmacy', addressLines: [], postcode: null },
  { odsCode: 'FH542', name: 'PHARMACY FH542', role: 'pharmacy', addressLines: [], postcode: null },
  {
    odsCode: 'RBA',
    name: 'TAUNTON AND SOMERSET NHS FOUNDATION TRUST',
    role: 'nhs-trust',
    addressLines: [],
    postcode: null,
  },
  {
    odsCode: 'A99968',
    name: 'SOMERSET BOWEL CANCER SCREENING CENTRE',
    role: 'trust-site',
    addressLines: ['MUSGROVE PARK HOSPITAL', 'TAUNTON'],
    postcode: 'TA1 5DA',
    parentOdsCode: 'RBA',
  },
  { odsCode: 'RR8', name: 'NHS TRUST RR8', role: 'nhs-trust', addressLines: [], postcode: null },
  {
    odsCode: 'RRERP',
    name: 'PRESCRIBER 240',
    role: 'trust-site',
    addressLines: ['SEVERN FIELDS MEDICAL PRACTICE', 'SUNDORNE ROAD', 'SHREWSBURY'],
    postcode: 'SY1 4RQ',
  },
  { odsCode: 'R68', name: 'NHS TRUST R68', role: 'nhs-trust', addressLines: [], postcode: null },
  { odsCode: 'R69', name: 'CICERO-CLINIC', role: 'nhs-trust', addressLines: [], postcode: null },
  { odsCode: '84H', name: 'NHS COUNTY DURHAM CCG', role: 'commissioner', addressLines: [], postcode: null },
  {
    odsCode: '5EX',
    name: 'GREATER DERBY PCT',
    role: 'commissioner',
    addressLines: [],
    postcode: null,
    status: 'closed',
  },
  { odsCode: 'T1450', name: 'NHS BUSINESS SERVICES AUTHORITY', role: 'other', addressLines: [], postcode: null },
  { odsCode: 'X26', name: 'NHS DIGITAL', role: 'other', addressLines: [], postcode: null },
  {
    odsCode: 'X2601',
    name: 'NHS DIGITAL SPINE',
    role: 'other',
    addressLines: [],
    postcode: null,
    parentOdsCode: 'X26',
  },
];

interface SandboxConnection {
  odsCode: string;
  supplier: string;
  bandwidthMbps: number;
  accessType: string;
  availabilityTarget: number;
  status: 'ordered' | 'provisioning' | 'live';
  blocks: string[];
}

/**
 * A connection per sandbox practice, pharmacy and trust, with blocks the demo and the mail relay can look up.
 * They sit in 192.168.0.0/16 and 2001:db8:ffff::/48, clear of the generated estate (10.0.0.0/8 and lower
 * 2001:db8 /56s), so `npm run n3 -- seed` works on a schema that holds the sandbox too.
 */
export const SANDBOX_CONNECTIONS: SandboxConnection[] = [
  {
    odsCode: 'A83008',
    supplier: 'BT',
    bandwidthMbps: 100,
    accessType: 'fttp',
    availabilityTarget: 99.9,
    status: 'live',
    blocks: ['192.168.8.0/24'],
  },
  {
    odsCode: 'C81007',
    supplier: 'Virgin Media Business',
    bandwidthMbps: 80,
    accessType: 'fttc',
    availabilityTarget: 99.5,
    status: 'live',
    blocks: ['192.168.7.0/24'],
  },
  {
    odsCode: 'VNE51',
    supplier: 'BT',
    bandwidthMbps: 40,
    accessType: 'fttc',
    availabilityTarget: 99.5,
    status: 'live',
    blocks: ['192.168.51.0/26'],
  },
  {
    odsCode: 'FCG72',
    supplier: 'Daisy',
    bandwidthMbps: 40,
    accessType: 'fttc',
    availabilityTarget: 99.5,
    status: 'live',
    blocks: ['192.168.72.0/26'],
  },
  {
    odsCode: 'FA565',
    supplier: 'Vodafone',
    bandwidthMbps: 20,
    accessType: 'cellular',
    availabilityTarget: 99,
    status: 'provisioning',
    blocks: ['192.168.65.0/26'],
  },
  {
    odsCode: 'RBA',
    supplier: 'Capita',
    bandwidthMbps: 10_000,
    accessType: 'leased-line',
    availabilityTarget: 99.99,
    status: 'live',
    blocks: ['192.168.128.0/18', '2001:db8:ffff::/48'],
  },
  {
    odsCode: 'X2601',
    supplier: 'BT',
    bandwidthMbps: 40_000,
    accessType: 'ethernet',
    availabilityTarget: 99.999,
    status: 'live',
    blocks: ['192.168.26.0/24'],
  },
];

/**
 * Inserts the sandbox organisations and connections that are missing; leaves anything present alone. With
 * `gpConnectUrl` (the GP Connect provider simulator), each GP practice without a GP Connect endpoint gets
 * `<gpConnectUrl>/<ODS code>/fhir`.
 */
export async function seedSandboxEstate(
  database: ServiceDatabase,
  gpConnectUrl?: string,
): Promise<{ organisations: number; connections: number }> {
  const schema = `"${database.schema}"`;
  return withTransaction(database.pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${database.schema}.sandbox-seed`]);
    let organisations = 0;
    for (const organisation of SANDBOX_ORGANISATIONS) {
      const result = await client.query(
        `INSERT INTO ${schema}.organisation (ods_code, name, role, status, open_date, address_lines, postcode, parent_ods_code)
         VALUES ($1, $2, $3, $4, '1974-04-01', $5, $6, $7) ON CONFLICT (ods_code) DO NOTHING`,
        [
          organisation.odsCode,
          organisation.name,
          organisation.role,
          organisation.status ?? 'active',
          organisation.addressLines,
          organisation.postcode,
          organisation.parentOdsCode ?? null,
        ],
      );
      organisations += result.rowCount ?? 0;
      if (gpConnectUrl && organisation.role === 'gp-practice') {
        await client.query(
          `UPDATE ${schema}.organisation SET gp_connect_endpoint = $2 WHERE ods_code = $1 AND gp_connect_endpoint IS NULL`,
          [organisation.odsCode, `${gpConnectUrl}/${organisation.odsCode}/fhir`],
        );
      }
    }
    let connections = 0;
    for (const connection of SANDBOX_CONNECTIONS) {
      const existing = await client.query(`SELECT 1 FROM ${schema}.connection WHERE ods_code = $1`, [
        connection.odsCode,
      ]);
      if (existing.rowCount) continue;
      const created = await client.query<{ id: string }>(
        `INSERT INTO ${schema}.connection
           (ods_code, supplier, bandwidth_mbps, access_type, availability_target, contract_start, status)
         VALUES ($1, $2, $3, $4, $5, '2024-04-01', $6) RETURNING id`,
        [
          connection.odsCode,
          connection.supplier,
          connection.bandwidthMbps,
          connection.accessType,
          connection.availabilityTarget,
          connection.status,
        ],
      );
      const id = (created.rows[0] as { id: string }).id;
      await client.query(
        `INSERT INTO ${schema}.connection_event (connection_id, kind, to_status, detail, actor, request_id)
         VALUES ($1, 'seeded', $2, 'sandbox estate', 'sandbox-seed', 'sandbox-seed')`,
        [id, connection.status],
      );
      for (const block of connection.blocks) {
        await client.query(
          `INSERT INTO ${schema}.ip_allocation (connection_id, block, purpose) VALUES ($1, $2, 'sandbox')`,
          [id, block],
        );
      }
      connections += 1;
    }
    return { organisations, connections };
  });
}
