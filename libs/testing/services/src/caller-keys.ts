import {
  callerKeyEnvironment,
  signerFrom,
  type CallerAssertionSigner,
  GATEWAY_ISSUER,
  generatePlatformCallerKeys,
  type PlatformCallerKeys,
} from '@platform/shared-nats';
import { SERVICES } from '@platform/shared-catalogue';

let keys: Promise<PlatformCallerKeys> | undefined;

/** One set of caller keys per test process: the gateway's, and one for each service of the catalogue. */
export function testCallerKeys(): Promise<PlatformCallerKeys> {
  keys ??= generatePlatformCallerKeys(SERVICES.map((service) => service.name));
  return keys;
}

/** The environment that gives a service under test its trusted keys and its own signing key. */
export async function testCallerEnvironment(service: string): Promise<Record<string, string>> {
  return callerKeyEnvironment(await testCallerKeys(), service);
}

/** Signs as the gateway: what a test's typed client needs to be let in, as a request through the gateway is. */
export async function testGatewaySigner(): Promise<CallerAssertionSigner> {
  return signerFrom(await testCallerKeys(), GATEWAY_ISSUER);
}
