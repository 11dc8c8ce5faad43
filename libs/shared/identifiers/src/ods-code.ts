const ODS_CODE = /^[A-Z0-9]{3,6}$/;

/**
 * True for a well-formed ODS code: 3 to 6 uppercase letters or digits. Well-formed is not the same as
 * existing: callers must still look the code up in the organisation registry.
 */
export function isWellFormedOdsCode(value: string): boolean {
  return typeof value === 'string' && ODS_CODE.test(value);
}
