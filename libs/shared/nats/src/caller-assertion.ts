import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomUUID,
  sign as signBytes,
  verify as verifyBytes,
  type KeyObject,
} from 'node:crypto';
import canonicalize from 'canonicalize';
import { exportJWK, importJWK, type JWK, type JWTPayload } from 'jose';
import { PlatformError } from '@platform/shared-errors';
import { HEADER, isAccessMode, type CallContext, type Caller } from './call-context';

/**
 * The signed statement of who is calling, carried with every request on the bus (ADR 0014). The gateway
 * signs one for each request it forwards, after verifying the caller's access token; a service that calls
 * another on the caller's behalf signs its own, nesting the gateway's (`act`), so the service called still
 * acts for, and audits, the person (EPS asking PDS audits the pharmacist, not "eps"). A service acting for
 * itself signs one with no person in it. Every service verifies the statement before its handler runs:
 * the signer's key, the lifetime, the message it was signed for, and that it was not seen before.
 */
export const ASSERTION_HEADER = HEADER.callerAssertion;
/** The JWS `typ` of a caller assertion: no other JWT (an access token, say) can pass for one. */
export const ASSERTION_TYPE = 'caller-assertion+jwt';
/** The issuer whose statements name a person (the HTTP edge). Services' statements nest one, or name the service. */
export const GATEWAY_ISSUER = 'gateway';
/** How long a statement is good for: long enough for one hop and its retries within the RPC timeout. */
export const ASSERTION_LIFETIME_SECONDS = 30;
const CLOCK_SKEW_SECONDS = 5;
/** A statement nested by a service (`act`) may be older: the service may call others late in its own work. */
const NESTED_MAX_AGE_SECONDS = 120;

interface AssertionClaims extends JWTPayload {
  /** X-Request-ID. */
  rid: string;
  cid?: string;
  /** SHA-256 (base64url) of the subject and the canonical JSON (RFC 8785) of the request's data. */
  msg: string;
  roles: string[];
  usr?: string;
  cli?: string;
  org?: string;
  nhs?: string;
  /**
   * The access mode of the person's token (`user-restricted` or `application-restricted`). Absent from
   * statements of gateways older than this claim; a mode this version does not know is left out too, so a
   * service reads either as it reads an absent one.
   */
  mode?: string;
  /** The gateway's statement this service acts on (delegation). */
  act?: string;
}

/** The hash a statement binds: the subject it is sent on and the request's data, whatever the key order. */
export function messageDigest(subject: string, data: unknown): string {
  return createHash('sha256')
    .update(subject)
    .update('\n')
    .update(canonicalize(data ?? null) ?? 'null')
    .digest('base64url');
}

function refused(reason: string): PlatformError {
  return new PlatformError('ACCESS_DENIED', undefined, { diagnostics: `Caller context refused: ${reason}` });
}

/** A private signing key from configuration: PKCS#8 PEM, or its DER in base64 (one line, for an env var). */
export function privateKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('-----BEGIN')
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
}

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Signs caller statements as one issuer (the gateway, or a service) with its Ed25519 key: a compact JWS
 * (RFC 7515) made here with node:crypto rather than through `jose`'s JWT builder, which cost four times the
 * signature itself on the read path (ADR 0014). The protected header never changes, so it is encoded once.
 */
export class CallerAssertionSigner {
  private readonly encodedHeader: string;

  constructor(
    readonly issuer: string,
    private readonly key: KeyObject,
    keyId: string,
  ) {
    if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('a caller statement signer needs an Ed25519 private key');
    }
    this.encodedHeader = base64url(JSON.stringify({ alg: 'EdDSA', typ: ASSERTION_TYPE, kid: keyId }));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- callers await it; the signature is synchronous.
  async sign(subject: string, data: unknown, context: CallContext): Promise<string> {
    // RFC 8785 serialises as JSON does (undefined left out, toJSON honoured), so the digest of the data as
    // sent equals the digest of the data as the receiver decodes it: no JSON round trip here.
    const now = Math.floor(Date.now() / 1000);
    const claims: AssertionClaims = { rid: context.requestId, msg: messageDigest(subject, data), roles: [] };
    if (context.correlationId) claims.cid = context.correlationId;
    let sub = this.issuer;
    if (this.issuer === GATEWAY_ISSUER) {
      const caller = context.caller;
      if (caller) {
        sub = caller.id;
        claims.roles = caller.roles;
        if (caller.username) claims.usr = caller.username;
        if (caller.clientId) claims.cli = caller.clientId;
        if (caller.organisation) claims.org = caller.organisation;
        if (caller.nhsNumber) claims.nhs = caller.nhsNumber;
        if (caller.accessMode) claims.mode = caller.accessMode;
      }
    } else if (context.assertion) {
      // Acting for the person whose verified statement this service received.
      claims.act = context.assertion;
    } else {
      claims.roles = [serviceRole(this.issuer)];
    }
    const payload: AssertionClaims = {
      ...claims,
      iss: this.issuer,
      sub,
      jti: randomUUID(),
      iat: now,
      exp: now + ASSERTION_LIFETIME_SECONDS,
    };
    const signingInput = `${this.encodedHeader}.${base64url(JSON.stringify(payload))}`;
    const signature = signBytes(null, Buffer.from(signingInput, 'ascii'), this.key);
    return `${signingInput}.${signature.toString('base64url')}`;
  }
}

/** The role a service holds when it calls another for itself (no person behind the call). */
export function serviceRole(service: string): string {
  return `service:${service}`;
}

/** One key a verifier trusts: whose it is (`iss` of the statements it signs) and its public JWK. */
export interface TrustedKey {
  kid: string;
  issuer: string;
  key: KeyObject;
}

/**
 * Trusted keys from configuration: a JWK set whose keys carry `kid` and the issuer they sign for (`iss`),
 * e.g. `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"...","kid":"gateway-2026-12","iss":"gateway"}]}`.
 * Rotation: add the new key everywhere, move the signer to it, remove the old one after the lifetime.
 */
export async function trustedKeysFrom(json: string): Promise<TrustedKey[]> {
  const set = JSON.parse(json) as { keys?: (JWK & { iss?: string })[] };
  if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error('the trusted caller keys hold no key');
  return Promise.all(
    set.keys.map(async (jwk) => {
      if (!jwk.kid || !jwk.iss) throw new Error('every trusted caller key needs a kid and an iss');
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.d !== undefined) {
        throw new Error(`trusted caller key ${jwk.kid} must be a public Ed25519 key`);
      }
      const key = (await importJWK(jwk, 'EdDSA')) as KeyObject;
      return { kid: jwk.kid, issuer: jwk.iss, key };
    }),
  );
}

/** Statements seen within their lifetime, so that a replayed one is refused (bounded; oldest first out). */
class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  /** False when `jti` was seen before. */
  remember(jti: string, expiresAtMs: number, nowMs: number): boolean {
    for (const [old, expiry] of this.seen) {
      if (expiry > nowMs && this.seen.size < this.capacity) break;
      this.seen.delete(old);
    }
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, expiresAtMs);
    return true;
  }
}

/** What a verified statement says: the call context a handler may trust, and who signed it. */
export interface VerifiedContext {
  context: CallContext;
  /** The service that called on the person's behalf, when it was not the gateway. */
  via?: string;
}

/** Verifies caller statements against the trusted keys: signer, type, lifetime, message, replay. */
export class CallerAssertionVerifier {
  private readonly keys: Map<string, TrustedKey>;
  private readonly replays: ReplayCache;

  constructor(keys: TrustedKey[], options: { replayCapacity?: number } = {}) {
    this.keys = new Map(keys.map((key) => [key.kid, key]));
    this.replays = new ReplayCache(options.replayCapacity ?? 500_000);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- a refusal must be a rejected promise, not a throw.
  async verify(subject: string, data: unknown, assertion: string | undefined): Promise<VerifiedContext> {
    if (!assertion) throw refused('no signed caller statement');
    const claims = this.checked(assertion, ASSERTION_LIFETIME_SECONDS);
    if (claims.msg !== messageDigest(subject, data)) throw refused('the statement was signed for another message');
    if (!this.replays.remember(claims.jti as string, (claims.exp as number) * 1000, Date.now())) {
      throw refused('the statement was used before (replay)');
    }
    const issuer = claims.iss as string;
    if (issuer === GATEWAY_ISSUER) {
      if (claims.act) throw refused('the gateway does not act for another');
      return { context: { ...contextOf(claims), assertion } };
    }
    if (!claims.act) {
      // A service acting for itself: no person, only its service role.
      return {
        context: {
          requestId: claims.rid,
          correlationId: claims.cid,
          caller: { id: issuer, roles: [serviceRole(issuer)] },
        },
      };
    }
    const original = this.checked(claims.act, NESTED_MAX_AGE_SECONDS);
    if (original.iss !== GATEWAY_ISSUER || original.act)
      throw refused('a service may only act for a gateway statement');
    if (original.rid !== claims.rid) throw refused('the nested statement is for another request');
    return { context: { ...contextOf(original), assertion: claims.act }, via: issuer };
  }

  /**
   * Signature by a trusted key of the claimed issuer, the right type, and not expired or too old. A compact
   * JWS checked here with node:crypto (ADR 0014, "Verification without jose"), in jose's order and with its
   * error codes: the header (only `EdDSA`, no `crit`), the key by `kid`, the Ed25519 signature over the exact
   * bytes received, then the claims (`typ`, the required claims and their types, `nbf`, `exp`, and `iat` no
   * older than `maxAgeSeconds`, all with the same clock skew).
   */
  private checked(assertion: string, maxAgeSeconds: number): AssertionClaims {
    const invalid = (code: string): PlatformError =>
      refused(code === 'ERR_JWT_EXPIRED' ? 'the statement has expired' : `not a valid statement (${code})`);
    const parts = assertion.split('.');
    const [encodedHeader, encodedPayload, encodedSignature] = parts;
    if (
      parts.length !== 3 ||
      encodedHeader === undefined ||
      encodedPayload === undefined ||
      encodedSignature === undefined ||
      !BASE64URL.test(encodedHeader) ||
      !BASE64URL.test(encodedPayload) ||
      !BASE64URL.test(encodedSignature)
    ) {
      throw invalid('ERR_JWS_INVALID');
    }
    const header = jsonObject(encodedHeader);
    if (!header) throw invalid('ERR_JWS_INVALID');
    // jose refuses any `crit` it does not know (it knows none here) and `b64` outside `crit`.
    if (header['crit'] !== undefined || header['b64'] !== undefined) throw invalid('ERR_JWS_INVALID');
    if (header['alg'] !== 'EdDSA') throw invalid('ERR_JOSE_ALG_NOT_ALLOWED');
    const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
    const trusted = kid ? this.keys.get(kid) : undefined;
    if (!trusted) throw refused('signed by an unknown key');
    const signature = Buffer.from(encodedSignature, 'base64url');
    const signed =
      signature.length === ED25519_SIGNATURE_BYTES &&
      verifyBytes(null, Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'), trusted.key, signature);
    if (!signed) throw invalid('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');

    const payload = jsonObject(encodedPayload);
    if (!payload) throw invalid('ERR_JWT_INVALID');
    if (header['typ'] !== ASSERTION_TYPE) throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    for (const claim of REQUIRED_CLAIMS) if (!(claim in payload)) throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    for (const claim of STRING_CLAIMS) {
      if (typeof payload[claim] !== 'string') throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    }
    const { iat, exp, nbf } = payload;
    if (!isTime(iat) || !isTime(exp) || (nbf !== undefined && !isTime(nbf)))
      throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    const now = Math.floor(Date.now() / 1000);
    if (nbf !== undefined && nbf > now + CLOCK_SKEW_SECONDS) throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    if (exp <= now - CLOCK_SKEW_SECONDS) throw invalid('ERR_JWT_EXPIRED');
    const age = now - iat;
    if (age < -CLOCK_SKEW_SECONDS) throw invalid('ERR_JWT_CLAIM_VALIDATION_FAILED');
    if (age - CLOCK_SKEW_SECONDS > maxAgeSeconds + CLOCK_SKEW_SECONDS) throw invalid('ERR_JWT_EXPIRED');

    const claims = payload as AssertionClaims;
    if (claims.iss !== trusted.issuer) throw refused("signed with another issuer's key");
    if (!Array.isArray(claims.roles) || claims.roles.some((role) => typeof role !== 'string')) {
      throw refused('roles must be a list of names');
    }
    if (claims.mode !== undefined && typeof claims.mode !== 'string') throw refused('mode must be a name');
    return claims;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ED25519_SIGNATURE_BYTES = 64;
const REQUIRED_CLAIMS = ['iss', 'sub', 'jti', 'iat', 'exp', 'rid', 'msg', 'roles'] as const;
const STRING_CLAIMS = ['iss', 'sub', 'jti', 'rid', 'msg'] as const;

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A base64url JSON object (a JWS header or JWT claims set), or undefined when it is not one. */
function jsonObject(encoded: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function contextOf(claims: AssertionClaims): CallContext {
  const context: CallContext = { requestId: claims.rid };
  if (claims.cid) context.correlationId = claims.cid;
  if (claims.sub === GATEWAY_ISSUER && claims.roles.length === 0) return context;
  const caller: Caller = { id: claims.sub as string, roles: claims.roles };
  if (claims.usr) caller.username = claims.usr;
  if (claims.cli) caller.clientId = claims.cli;
  if (claims.org) caller.organisation = claims.org;
  if (claims.nhs) caller.nhsNumber = claims.nhs;
  if (isAccessMode(claims.mode)) caller.accessMode = claims.mode;
  context.caller = caller;
  return context;
}

/** A new Ed25519 key for a signer: the private key as one-line base64 DER and the public JWK to trust. */
export async function generateCallerKey(
  issuer: string,
  kid = `${issuer}-${new Date().toISOString().slice(0, 10)}`,
): Promise<{ issuer: string; kid: string; privateKey: string; publicJwk: JWK & { iss: string } }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const jwk = await exportJWK(publicKey);
  return { issuer, kid, privateKey: der.toString('base64'), publicJwk: { ...jwk, kid, iss: issuer } };
}

/** A signer's private key and its ID, as a process receives them (CALLER_SIGNING_KEY, CALLER_SIGNING_KEY_ID). */
export interface SigningKeyConfig {
  privateKey: string;
  kid: string;
}

/** Keys for a whole platform run locally: one signing key per process and the set every process trusts. */
export interface PlatformCallerKeys {
  /** CALLER_TRUSTED_KEYS: the JWK set of every signer's public key. */
  trustedKeys: string;
  signers: Record<string, SigningKeyConfig>;
}

/** New keys for the gateway and the given services (the launcher's local run, tests, benchmarks). */
export async function generatePlatformCallerKeys(services: readonly string[]): Promise<PlatformCallerKeys> {
  const keys = await Promise.all([GATEWAY_ISSUER, ...services].map((issuer) => generateCallerKey(issuer)));
  return {
    trustedKeys: JSON.stringify({ keys: keys.map((key) => key.publicJwk) }),
    signers: Object.fromEntries(keys.map((key) => [key.issuer, { privateKey: key.privateKey, kid: key.kid }])),
  };
}

/** The signer of process `name` (the gateway, for a test or benchmark that talks to services itself). */
export function signerFrom(keys: PlatformCallerKeys, name: string): CallerAssertionSigner {
  const signer = keys.signers[name];
  if (!signer) throw new Error(`no caller signing key was made for ${name}`);
  return new CallerAssertionSigner(name, privateKeyFrom(signer.privateKey), signer.kid);
}

/** The environment that gives process `name` its signing key and the platform's trusted keys. */
export function callerKeyEnvironment(keys: PlatformCallerKeys, name: string): Record<string, string> {
  const signer = keys.signers[name];
  if (!signer) throw new Error(`no caller signing key was made for ${name}`);
  return {
    CALLER_TRUSTED_KEYS: keys.trustedKeys,
    CALLER_SIGNING_KEY: signer.privateKey,
    CALLER_SIGNING_KEY_ID: signer.kid,
  };
}

/**
 * A process's side of caller trust, from its configuration: the verifier of the statements it receives and,
 * when it has a signing key, the signer of its own (as `issuer`). Bad keys refuse to start the process.
 */
export async function callerTrust(settings: {
  issuer: string;
  trustedKeys: string;
  signingKey?: string;
  signingKeyId?: string;
}): Promise<{ verifier: CallerAssertionVerifier; signer?: CallerAssertionSigner }> {
  let keys: TrustedKey[];
  try {
    keys = await trustedKeysFrom(settings.trustedKeys);
  } catch (error) {
    throw new Error(
      `CALLER_TRUSTED_KEYS is not a usable JWK set: ${error instanceof Error ? error.message : 'invalid'}`,
    );
  }
  const verifier = new CallerAssertionVerifier(keys);
  if (!settings.signingKey) return { verifier };
  const kid = settings.signingKeyId ?? '';
  const own = keys.find((key) => key.kid === kid);
  if (!own || own.issuer !== settings.issuer) {
    throw new Error(`CALLER_SIGNING_KEY_ID ${kid || '(empty)'} is not a trusted key of ${settings.issuer}`);
  }
  let key: KeyObject;
  try {
    key = privateKeyFrom(settings.signingKey);
  } catch {
    throw new Error('CALLER_SIGNING_KEY is not a PKCS#8 Ed25519 private key (PEM or base64 DER)');
  }
  return { verifier, signer: new CallerAssertionSigner(settings.issuer, key, kid) };
}
