import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { PlatformError } from '@platform/shared-errors';

export interface FieldProblem {
  field: string;
  message: string;
}

function problemsOf(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}).map((message) => ({ field: `${prefix}${error.property}`, message })),
    ...problemsOf(error.children ?? [], `${prefix}${error.property}.`),
  ]);
}

/**
 * Checks a request payload against its contract class before it goes on the bus: unknown fields refused,
 * each problem named by its field (in the diagnostics, and as `errors` for problem details).
 */
export async function validatePayload<T extends object>(
  type: new () => T,
  payload: T,
  code = 'INVALID_VALUE',
): Promise<T> {
  const instance = plainToInstance(type, payload);
  const problems = problemsOf(await validate(instance, { whitelist: true, forbidNonWhitelisted: true }));
  if (problems.length > 0) {
    throw new PlatformError(code, undefined, {
      diagnostics: problems.map((problem) => problem.message).join('; '),
      details: { errors: problems },
    });
  }
  return instance;
}
