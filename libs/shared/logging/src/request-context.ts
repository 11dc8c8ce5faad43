import { AsyncLocalStorage } from 'node:async_hooks';

/** The identifiers every log line and every NATS message carries for one unit of work. */
export interface RequestContext {
  requestId?: string;
  correlationId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
