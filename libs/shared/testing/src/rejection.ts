/** What tests read of a platform error (structural, so this library needs no runtime dependency on errors). */
export interface CodedError {
  code: string;
  message: string;
  httpStatus: number;
  diagnostics?: string;
}

function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as Partial<CodedError>).code === 'string' && 'httpStatus' in error;
}

/** The coded platform error a call fails with; fails the test if it succeeds or fails with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (error) {
    if (isCodedError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a platform error');
}
