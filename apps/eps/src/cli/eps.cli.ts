// `npm run eps -- <command>`: what a prescribing system does with keys and signatures, for local runs, demos
// and tests against this platform.
//   keygen --sds-user-id ID [--dir DIR]           a prescriber's RSA key pair; the public key registered with EPS
//   sign --bundle FILE --key FILE [--out FILE]    $prepare's digest computed locally, signed, put in Provenance
//   sign --digest BASE64 --key FILE               the Provenance.signature.data for a digest $prepare returned
import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { contentDigest, signDigest, signedInfoXml, withSignature } from '@platform/contracts-eps';
import { generateShortFormPrescriptionId, isValidNhsNumber } from '@platform/shared-identifiers';
import { openEpsDatabase } from '../database/database';
import { loadPrescriptions, prescriptionBundle } from '../population/prescriptions-loader';
import type { Bundle } from '../prescribing/fhir';
import { PrescriptionRepository } from '../prescribing/prescription.repository';
import { readPrescriptionOrder } from '../prescribing/prescription-order';
import { prepareParameters } from '../signing/digest';

const USAGE = `usage: npm run eps -- <command> [options]

  keygen --sds-user-id <id> [--dir <dir>]
        Make an RSA-2048 key pair for the prescriber with that SDS user ID: the private key goes to
        <dir>/<id>.key.pem (default dir tmp/eps-keys, readable by you only), the public key is registered with
        EPS (straight in its database: --database-url, --schema). Replaces an earlier key.
  sign --bundle <file> --key <file> [--out <file>]
        Sign a prescription-order Bundle as a prescribing system would after $prepare: the digest is computed
        the same way, signed with the key, and put in the Bundle's Provenance. Prints the Bundle (or writes --out).
  sign --digest <base64> --key <file> [--key-name <id>]
        Print Provenance.signature.data for a digest that $prepare returned.
  bundles --count <n> --nhs-number <n> --key <file> --out <file> [--pharmacy <ods>]
        Write n new signed prescription-order Bundles (one item each, fresh IDs), one JSON per line, for load tests.
  seed --prescriptions <n> [--seed <s>]
        Load n synthetic prescriptions with COPY (volume for benchmarks: their signatures are placeholders).

common options:
  --database-url <url>  PostgreSQL (default: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  --schema <name>       EPS's schema (default: EPS_DB_SCHEMA, else eps)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        'sds-user-id': { type: 'string' },
        prescriptions: { type: 'string' },
        count: { type: 'string' },
        'nhs-number': { type: 'string' },
        pharmacy: { type: 'string' },
        seed: { type: 'string' },
        dir: { type: 'string' },
        bundle: { type: 'string' },
        digest: { type: 'string' },
        key: { type: 'string' },
        'key-name': { type: 'string' },
        out: { type: 'string' },
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const option = (name: string): string | undefined => values[name] as string | undefined;
  const [command] = positionals;
  if (values['help'] === true || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values['help'] === true ? 0 : 2;
  }

  if (command === 'bundles') {
    const count = Number(option('count'));
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
      fail('--count must be a whole number from 1 to 1000000');
    const nhsNumber = option('nhs-number') ?? '';
    if (!isValidNhsNumber(nhsNumber)) fail('--nhs-number must be a valid NHS number (of a living patient PDS holds)');
    const keyFile = option('key');
    const out = option('out');
    if (!keyFile || !out) fail('bundles needs --key and --out');
    const privateKey = readFileSync(keyFile, 'utf8');
    const file = createWriteStream(out);
    for (let index = 0; index < count; index += 1) {
      const bundle = prescriptionBundle(
        generateShortFormPrescriptionId('A83008'),
        randomUUID(),
        nhsNumber,
        option('pharmacy') ?? null,
      );
      const digest = Buffer.from(signedInfoXml(contentDigest(bundle))).toString('base64');
      const line = JSON.stringify(withSignature(bundle, signDigest(digest, privateKey, '555086689106'), new Date()));
      if (!file.write(`${line}\n`)) await once(file, 'drain');
    }
    file.end();
    await once(file, 'finish');
    process.stdout.write(`wrote ${count} signed prescriptions to ${out}\n`);
    return 0;
  }

  const schema = option('schema') ?? process.env['EPS_DB_SCHEMA'] ?? 'eps';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) fail('--schema must be a lower-case SQL identifier');
  const url = option('database-url') ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

  if (command === 'seed') {
    const count = Number(option('prescriptions'));
    if (!Number.isInteger(count) || count < 1 || count > 20_000_000)
      fail('--prescriptions must be a whole number from 1 to 20000000');
    const seed = Number(option('seed') ?? 1);
    const database = await openEpsDatabase({ url, schema, poolSize: 1 });
    try {
      const result = await loadPrescriptions(
        database,
        { count, seed, pharmacies: ['VNE51', 'VNFKT', 'FA565', 'FCG71', 'FCG75', 'FA553', 'FH542'] },
        (done) =>
          process.stdout.write(`prescriptions: ${done.toLocaleString('en-GB')} of ${count.toLocaleString('en-GB')}\n`),
      );
      process.stdout.write(
        `loaded ${result.loaded.toLocaleString('en-GB')} prescriptions into schema ${schema} in ${(result.ms / 1000).toFixed(1)} s\n`,
      );
    } finally {
      await database.dataSource.destroy();
    }
    return 0;
  }

  if (command === 'keygen') {
    const id = option('sds-user-id');
    if (!id || !/^\d{6,20}$/.test(id)) fail('--sds-user-id must be the digits of an SDS user ID');
    const dir = path.resolve(option('dir') ?? 'tmp/eps-keys');
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    mkdirSync(dir, { recursive: true });
    const keyFile = path.join(dir, `${id}.key.pem`);
    writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
    writeFileSync(path.join(dir, `${id}.pub.pem`), keys.publicKey);
    const database = await openEpsDatabase({ url, schema, poolSize: 1 });
    try {
      await new PrescriptionRepository(database).registerKey(id, keys.publicKey);
    } finally {
      await database.dataSource.destroy();
    }
    process.stdout.write(`key for prescriber ${id}: ${keyFile} (public key registered in schema ${schema})\n`);
    return 0;
  }

  if (command === 'sign') {
    const keyFile = option('key');
    if (!keyFile) fail('--key is required');
    const privateKey = readFileSync(keyFile, 'utf8');
    const digest = option('digest');
    if (digest) {
      process.stdout.write(`${signDigest(digest, privateKey, option('key-name') ?? 'prescriber')}\n`);
      return 0;
    }
    const bundleFile = option('bundle');
    if (!bundleFile) fail('sign needs --bundle or --digest');
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Bundle;
    const order = readPrescriptionOrder(bundle);
    const parameters = prepareParameters(bundle, new Date()) as { parameter: { name: string; valueString: string }[] };
    const prepared = parameters.parameter.find((parameter) => parameter.name === 'digest')?.valueString ?? '';
    const signedBundle = withSignature(
      bundle,
      signDigest(prepared, privateKey, order.prescriber.sdsUserId),
      new Date(),
    );
    const text = `${JSON.stringify(signedBundle, null, 2)}\n`;
    const out = option('out');
    if (out) writeFileSync(out, text);
    else process.stdout.write(text);
    return 0;
  }
  fail(`unknown command "${command}"`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const coded = error as { code?: string; diagnostics?: string };
    process.stderr.write(
      `eps: ${coded.code ? `${coded.code}: ${coded.diagnostics ?? ''}` : error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
