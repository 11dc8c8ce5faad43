export { HEADER, actorOf, fromNatsHeaders, toNatsHeaders, type CallContext, type Caller } from './call-context';
export { connectNats, type NatsSettings } from './connect';
export { RpcErrorFilter, callContextOf, rpcValidationPipe, withCallContext } from './nest-rpc';
export { NatsRpcClient, type RpcClientOptions } from './rpc-client';
export { validatePayload, type FieldProblem } from './validate-payload';
export { coalesceWrites } from './coalesce-writes';
