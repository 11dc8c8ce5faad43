export { formatNhsNumber, generateNhsNumber, isValidNhsNumber, nhsNumberCheckDigit } from './nhs-number';
export { isWellFormedOdsCode } from './ods-code';
export {
  PRESCRIPTION_CHECK_ALPHABET,
  generateShortFormPrescriptionId,
  isValidShortFormPrescriptionId,
  prescriptionCheckCharacter,
} from './prescription-id';
export { seededRandom, type RandomSource } from './random';
export { isWellFormedUbrn } from './ubrn';
export { between, chance, Weighted } from './weighted';
