/** An error smtp-server answers with `code text` (text starts with the enhanced status code). */
export function smtpError(code: number, text: string): Error & { responseCode: number } {
  const error = new Error(text) as Error & { responseCode: number };
  error.responseCode = code;
  return error;
}
