import { errorDefinition, isKnownErrorCode } from './codes';

/** What crosses the bus when a request fails: a code from a contracts error enum, never a stack trace. */
export interface WireError {
  code: string;
  message: string;
  diagnostics?: string;
  /** Overrides the code's usual HTTP status where the NHS uses the same code with another status. */
  status?: number;
  /** Extra headers the HTTP edge should send with the error (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Machine-readable particulars (the fields or lines at fault, the record in the way): problem-details extension members. */
  details?: Record<string, unknown>;
  /** FHIRPath expressions of the elements at fault (OperationOutcome.issue.expression). */
  expression?: string[];
}

/** A domain error: a known code, a human message and optional diagnostics for the caller. */
export class PlatformError extends Error {
  readonly code: string;
  readonly diagnostics?: string;
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly details?: Record<string, unknown>;
  readonly expression?: string[];

  constructor(
    code: string,
    message?: string,
    options: {
      diagnostics?: string;
      status?: number;
      headers?: Record<string, string>;
      details?: Record<string, unknown>;
      expression?: string[];
    } = {},
  ) {
    super(message ?? errorDefinition(code).display);
    this.name = 'PlatformError';
    this.code = code;
    this.diagnostics = options.diagnostics;
    this.status = options.status;
    this.headers = options.headers;
    this.details = options.details;
    this.expression = options.expression;
  }

  get httpStatus(): number {
    return this.status ?? errorDefinition(this.code).status;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message };
    if (this.diagnostics !== undefined) wire.diagnostics = this.diagnostics;
    if (this.status !== undefined) wire.status = this.status;
    if (this.headers !== undefined) wire.headers = this.headers;
    if (this.details !== undefined) wire.details = this.details;
    if (this.expression !== undefined) wire.expression = this.expression;
    return wire;
  }

  static fromWire(wire: WireError): PlatformError {
    return new PlatformError(wire.code, wire.message, {
      diagnostics: wire.diagnostics,
      status: wire.status,
      headers: wire.headers,
      details: wire.details,
      expression: wire.expression,
    });
  }
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['code'] === 'string' &&
    typeof candidate['message'] === 'string' &&
    isKnownErrorCode(candidate['code'])
  );
}
