// `npm run eps -- <command>`: what a prescribing system does with keys and signatures, for local runs, demos
// and tests against this platform. The commands and their options are in eps.options.ts (`--help` lists them):
//   keygen --sds-user-id ID [--dir DIR]           a prescriber's RSA key pair; the public key registered with EPS
//                                                 as the prescriber's current key (earlier keys stay valid)
//   sign --bundle FILE --key FILE [--out FILE]    $prepare's digest computed locally, signed, put in Provenance
//   sign --digest BASE64 --key FILE               the Provenance.signature.data for a digest $prepare returned
//   bundles --count N --nhs-number N --key FILE --out FILE    signed Bundles for load tests
//   seed --prescriptions N [--seed S]             synthetic prescriptions loaded with COPY
import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { contentDigest, EPS_EVENTS, signDigest, signedInfoXml, withSignature } from '@platform/contracts-eps';
import { actorOf } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { runCommandLine } from '@platform/shared-config';
import { generateShortFormPrescriptionId } from '@platform/shared-identifiers';
import { openEpsDatabase } from '../database/database';
import { loadPrescriptions, prescriptionBundle } from '../population/prescriptions-loader';
import type { Bundle } from '../shared/fhir';
import { readPrescriptionOrder } from '../prescribing/prescription-order';
import { registerPrescriberKey } from '../prescribing/register-prescriber-key.usecase';
import { PrescriberKeyRepository } from '../shared/prescriber-key.repository';
import { checkedPrescriberKey } from '../signing/key-fingerprint';
import { prepareParameters } from '../signing/digest';
import { parseEpsCommandLine, type EpsCommand } from './eps.options';

async function main(command: EpsCommand): Promise<number> {
  switch (command.command) {
    case 'bundles': {
      const privateKey = readFileSync(command.key, 'utf8');
      const file = createWriteStream(command.out);
      for (let index = 0; index < command.count; index += 1) {
        const bundle = prescriptionBundle(
          generateShortFormPrescriptionId('A83008'),
          randomUUID(),
          command.nhsNumber,
          command.pharmacy,
        );
        const digest = Buffer.from(signedInfoXml(contentDigest(bundle))).toString('base64');
        const line = JSON.stringify(withSignature(bundle, signDigest(digest, privateKey, '555086689106'), new Date()));
        if (!file.write(`${line}\n`)) await once(file, 'drain');
      }
      file.end();
      await once(file, 'finish');
      process.stdout.write(`wrote ${command.count} signed prescriptions to ${command.out}\n`);
      return 0;
    }

    case 'seed': {
      const { prescriptions: count, seed, schema } = command;
      const database = await openEpsDatabase({ url: command.databaseUrl, schema, poolSize: 1 });
      try {
        const result = await loadPrescriptions(
          database,
          { count, seed, pharmacies: ['VNE51', 'VNFKT', 'FA565', 'FCG71', 'FCG75', 'FA553', 'FH542'] },
          (done) =>
            process.stdout.write(
              `prescriptions: ${done.toLocaleString('en-GB')} of ${count.toLocaleString('en-GB')}\n`,
            ),
        );
        process.stdout.write(
          `loaded ${result.loaded.toLocaleString('en-GB')} prescriptions into schema ${schema} in ${(result.ms / 1000).toFixed(1)} s\n`,
        );
      } finally {
        await database.dataSource.destroy();
      }
      return 0;
    }

    case 'keygen': {
      const { sdsUserId: id, schema } = command;
      const dir = path.resolve(command.dir);
      const keys = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      mkdirSync(dir, { recursive: true });
      const keyFile = path.join(dir, `${id}.key.pem`);
      writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
      writeFileSync(path.join(dir, `${id}.pub.pem`), keys.publicKey);
      const database = await openEpsDatabase({ url: command.databaseUrl, schema, poolSize: 1 });
      let fingerprint: string;
      try {
        // The same registration as eps.prescriber-key.register.v1: a new key version, recorded (who: this
        // command and the operating-system user), and its event left in EPS's outbox for a running EPS to publish.
        const context = { requestId: randomUUID(), caller: { id: `eps-cli:${userInfo().username}`, roles: ['ops'] } };
        const key = checkedPrescriberKey(keys.publicKey);
        ({ fingerprint } = await new IdempotentWrites(database).run(
          writeKey(context, 'prescriber-key.register', { sdsUserId: id, fingerprint: key.fingerprint }),
          async (transaction) => {
            const { reply, event } = await registerPrescriberKey(
              transaction,
              new PrescriberKeyRepository(database),
              id,
              key,
              actorOf(context),
            );
            await transaction.query(`INSERT INTO "${schema}".outbox (subject, payload, headers) VALUES ($1, $2, $3)`, [
              EPS_EVENTS.prescriberKeyRegistered,
              JSON.stringify(event),
              JSON.stringify({ 'X-Request-ID': context.requestId }),
            ]);
            return reply;
          },
        ));
      } finally {
        await database.dataSource.destroy();
      }
      process.stdout.write(
        `key for prescriber ${id}: ${keyFile} (public key ${fingerprint} registered in schema ${schema}, the prescriber's current key)\n`,
      );
      return 0;
    }

    case 'sign-digest': {
      const privateKey = readFileSync(command.key, 'utf8');
      process.stdout.write(`${signDigest(command.digest, privateKey, command.keyName)}\n`);
      return 0;
    }

    case 'sign-bundle': {
      const privateKey = readFileSync(command.key, 'utf8');
      const bundle = JSON.parse(readFileSync(command.bundle, 'utf8')) as Bundle;
      const order = readPrescriptionOrder(bundle);
      const parameters = prepareParameters(bundle, new Date()) as {
        parameter: { name: string; valueString: string }[];
      };
      const prepared = parameters.parameter.find((parameter) => parameter.name === 'digest')?.valueString ?? '';
      const signedBundle = withSignature(
        bundle,
        signDigest(prepared, privateKey, order.prescriber.sdsUserId),
        new Date(),
      );
      const text = `${JSON.stringify(signedBundle, null, 2)}\n`;
      if (command.out) writeFileSync(command.out, text);
      else process.stdout.write(text);
      return 0;
    }
  }
}

runCommandLine(parseEpsCommandLine(process.argv.slice(2)), main, (error) => {
  const coded = error as { code?: string; diagnostics?: string };
  return `eps: ${coded.code ? `${coded.code}: ${coded.diagnostics ?? ''}` : error instanceof Error ? error.message : String(error)}`;
});
