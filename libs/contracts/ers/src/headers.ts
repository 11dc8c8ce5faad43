/** The header an e-RS caller names its business function in. */
export const BUSINESS_FUNCTION_HEADER = 'NHSD-eRS-Business-Function';
