export { freshPrescription, shortFormIdOf, type BundleJson } from './reference-prescriptions';
