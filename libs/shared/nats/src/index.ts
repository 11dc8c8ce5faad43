export {
  ACCESS_MODES,
  HEADER,
  actorOf,
  isAccessMode,
  fromNatsHeaders,
  toNatsHeaders,
  writeContext,
  type AccessMode,
  type CallContext,
  type Caller,
} from './call-context';
export {
  connectNats,
  natsEndpointOptions,
  natsUrlForLog,
  type NatsEndpointOptions,
  type NatsSettings,
} from './connect';
export { RpcErrorFilter, callContextOf, rpcValidationPipe, wireErrorOf, withCallContext } from './nest-rpc';
export { NatsRpcClient, type RawAnswer, type RpcClientOptions } from './rpc-client';
export {
  RAW_REPLY,
  RAW_REPLY_HEADER,
  RAW_REPLY_PART_HEADER,
  RAW_REPLY_PARTS_HEADER,
  serveDirect,
  type DirectHandler,
  type RawReply,
} from './direct-handler';
export { validatePayload, type FieldProblem } from './validate-payload';
export { coalesceWrites } from './coalesce-writes';
export {
  ASSERTION_HEADER,
  CallerAssertionSigner,
  CallerAssertionVerifier,
  callerKeyEnvironment,
  callerTrust,
  generatePlatformCallerKeys,
  generateCallerKey,
  GATEWAY_ISSUER,
  messageDigest,
  privateKeyFrom,
  serviceRole,
  signerFrom,
  trustedKeysFrom,
  type PlatformCallerKeys,
  type SigningKeyConfig,
  type TrustedKey,
  type VerifiedContext,
} from './caller-assertion';
export { CallerAdmission, CallerGuard, type SubjectPolicies, type SubjectPolicy } from './caller-guard';
