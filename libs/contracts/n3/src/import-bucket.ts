import { Readable } from 'node:stream';
import { nanos, type NatsConnection, type ObjectStore } from 'nats';
import { N3_IMPORT_BUCKET } from './subjects';

/**
 * The bucket ODS extracts travel through: a NATS message carries at most 1 MB and an extract of 50,000
 * organisations is ten times that, so the sender stores the file in JetStream's object store and sends
 * its name. Objects nobody imports expire after a day.
 */
export function importBucket(nats: NatsConnection): Promise<ObjectStore> {
  return nats.jetstream().views.os(N3_IMPORT_BUCKET, {
    description: 'ODS extracts waiting to be imported by the N3 registry',
    ttl: nanos(24 * 60 * 60 * 1000),
  });
}

/** Stores an extract (a file stream or bytes) under `name`, for an import request to name. */
export async function storeExtract(nats: NatsConnection, name: string, data: Readable | Uint8Array): Promise<void> {
  const bucket = await importBucket(nats);
  if (data instanceof Uint8Array) {
    await bucket.putBlob({ name }, data);
  } else {
    await bucket.put({ name }, Readable.toWeb(data) as ReadableStream<Uint8Array>);
  }
}
