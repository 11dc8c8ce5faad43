// `npm run eps -- <command>`: what a prescribing system does with keys and signatures, for local runs, demos
// and tests against this platform.
//   keygen --sds-user-id ID [--dir DIR]           a prescriber's RSA key pair; the public key registered with EPS
//   sign --bundle FILE --key FILE [--out FILE]    $prepare's digest computed locally, signed, put in Provenance
//   sign --digest BASE64 --key FILE               the Provenance.signature.data for a digest $prepare returned
import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signDigest, withSignature } from '@platform/contracts-eps';
import { openEpsDatabase } from '../database/database';
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

  if (command === 'keygen') {
    const id = option('sds-user-id');
    if (!id || !/^\d{6,20}$/.test(id)) fail('--sds-user-id must be the digits of an SDS user ID');
    const schema = option('schema') ?? process.env['EPS_DB_SCHEMA'] ?? 'eps';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) fail('--schema must be a lower-case SQL identifier');
    const url = option('database-url') ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
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
