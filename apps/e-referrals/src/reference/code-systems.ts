import type { FhirResource } from '@platform/contracts-ers';

/**
 * e-RS reference data (A004): the code systems a referrer and a provider choose codes from. Codes and
 * displays are the NHS e-Referral Service's (its published reference data); each concept carries the
 * properties the API's filters use.
 */
export interface Concept {
  code: string;
  display: string;
  /** For clinic types: the specialty it belongs to. */
  specialty?: string;
  /** Cancellation reasons: who may use it (REFERRER, PROVIDER, PATIENT...), whether a comment is required. */
  reasonType?: string;
  commentIsMandatory?: boolean;
  /** Appointment cancellation reasons: CANCEL (by referrer) or REJECT (by the provider). */
  usage?: 'CANCEL' | 'REJECT';
  /** Priorities: days within which a provider contacts the patient after a deferral or a triage request. */
  contactDays?: number;
}

export const PRIORITIES: Concept[] = [
  { code: 'ROUTINE', display: 'Routine', contactDays: 7 },
  { code: 'URGENT', display: 'Urgent', contactDays: 2 },
  { code: 'TWO_WEEK_WAIT', display: '2 Week Wait', contactDays: 1 },
];

export const SPECIALTIES: Concept[] = [
  ['ALLERGY', 'Allergy'],
  ['AUDIOLOGICAL_MEDICINE', 'Audiological Medicine'],
  ['CARDIOLOGY', 'Cardiology'],
  ['DERMATOLOGY', 'Dermatology'],
  ['DIABETIC_MEDICINE', 'Diabetic Medicine'],
  ['ENT', 'Ear, Nose and Throat'],
  ['ENDOCRINOLOGY', 'Endocrinology'],
  ['GASTROENTEROLOGY', 'Gastroenterology'],
  ['GYNAECOLOGY', 'Gynaecology'],
  ['NEUROLOGY', 'Neurology'],
  ['OPHTHALMOLOGY', 'Ophthalmology'],
  ['ORTHOPAEDICS', 'Orthopaedics'],
  ['PAEDIATRICS', 'Paediatrics'],
  ['RESPIRATORY', 'Respiratory Medicine'],
  ['RHEUMATOLOGY', 'Rheumatology'],
  ['UROLOGY', 'Urology'],
].map(([code, display]) => ({ code: code ?? '', display: display ?? '' }));

export const CLINIC_TYPES: Concept[] = [
  ['HEART_FAILURE', 'Heart Failure', 'CARDIOLOGY'],
  ['LIPID_MANAGEMENT', 'Lipid Management', 'CARDIOLOGY'],
  ['ARRHYTHMIA', 'Arrhythmia', 'CARDIOLOGY'],
  ['CHEST_PAIN', 'Chest Pain', 'CARDIOLOGY'],
  ['ALLERGY_1', 'Allergy', 'ALLERGY'],
  ['ACNE', 'Acne', 'DERMATOLOGY'],
  ['SKIN_LESION', 'Skin Lesion', 'DERMATOLOGY'],
  ['HEARING_LOSS', 'Hearing Loss', 'ENT'],
  ['THYROID', 'Thyroid', 'ENDOCRINOLOGY'],
  ['ENDOSCOPY', 'Endoscopy', 'GASTROENTEROLOGY'],
  ['MENOPAUSE', 'Menopause', 'GYNAECOLOGY'],
  ['HEADACHE', 'Headache', 'NEUROLOGY'],
  ['CATARACT', 'Cataract', 'OPHTHALMOLOGY'],
  ['HIP', 'Hip', 'ORTHOPAEDICS'],
  ['KNEE', 'Knee', 'ORTHOPAEDICS'],
  ['ASTHMA', 'Asthma', 'RESPIRATORY'],
  ['PROSTATE', 'Prostate', 'UROLOGY'],
].map(([code, display, specialty]) => ({ code: code ?? '', display: display ?? '', specialty: specialty ?? '' }));

/** REFERRAL-CANCELLATION-REASON (A036). reasonType: who cancels (REFERRER for the referrer's own reasons). */
export const REFERRAL_CANCELLATION_REASONS: Concept[] = [
  {
    code: 'RAISED_IN_ERROR',
    display: 'Referral created by mistake',
    reasonType: 'REFERRER',
    commentIsMandatory: false,
  },
  {
    code: 'REFERRER_CANCELLATION',
    display: 'Other - Referrer request cancellation',
    reasonType: 'REFERRER',
    commentIsMandatory: false,
  },
  {
    code: 'INTEND_PRIVATE',
    display: 'Patient will go to a private clinic',
    reasonType: 'PATIENT',
    commentIsMandatory: false,
  },
  { code: 'PATIENT_DIED', display: 'Patient died', reasonType: 'PATIENT', commentIsMandatory: false },
  {
    code: 'TREATMENT_NO_LONGER_REQUIRED',
    display: 'Referral no longer needed',
    reasonType: 'PATIENT',
    commentIsMandatory: false,
  },
  { code: 'PATIENT_REQUEST_CANCELLATION_OTHER', display: 'Other', reasonType: 'PATIENT', commentIsMandatory: true },
  {
    code: 'BOOKED_OUTSIDE_CAB',
    display: 'Patient booked outside NHS e-Referral Service',
    reasonType: 'PROVIDER',
    commentIsMandatory: false,
  },
  {
    code: 'PROVIDER_CANCELLATION',
    display: 'Other - Provider Cancellation',
    reasonType: 'PROVIDER',
    commentIsMandatory: false,
  },
  { code: 'TRIAGE_ENDED', display: 'Triage Ended', reasonType: 'PROVIDER_TRIAGE', commentIsMandatory: false },
  {
    code: 'NO_LONGER_REQUIRED',
    display: 'Referral is no longer required',
    reasonType: 'PROVIDER_TRIAGE',
    commentIsMandatory: true,
  },
];

/** APPOINTMENT-CANCELLATION-REASON (A034 cancel, A014 reject). */
export const APPOINTMENT_CANCELLATION_REASONS: Concept[] = [
  {
    code: 'PATIENT_HOLIDAY',
    display: 'Patient on holiday',
    reasonType: 'PATIENT',
    usage: 'CANCEL',
    commentIsMandatory: false,
  },
  {
    code: 'PATIENT_ILL',
    display: 'Patient is sick',
    reasonType: 'PATIENT',
    usage: 'CANCEL',
    commentIsMandatory: false,
  },
  {
    code: 'PATIENT_OTHER_ENGAGEMENT',
    display: 'Patient - Other more pressing engagement',
    reasonType: 'PATIENT',
    usage: 'CANCEL',
    commentIsMandatory: true,
  },
  {
    code: 'PATIENT_APPOINTMENT_CANCELLATION_OTHER',
    display: 'Other',
    reasonType: 'PATIENT',
    usage: 'CANCEL',
    commentIsMandatory: true,
  },
  {
    code: 'CLINIC_CANCELLED',
    display: 'Clinic cancelled',
    reasonType: 'PROVIDER',
    usage: 'CANCEL',
    commentIsMandatory: false,
  },
  {
    code: 'PROVIDER_CANCELLATION',
    display: 'Other - Provider cancellation',
    reasonType: 'PROVIDER',
    usage: 'CANCEL',
    commentIsMandatory: true,
  },
  {
    code: 'SERVICE_INAPPROPRIATE',
    display: 'Inappropriate service',
    reasonType: 'PROVIDER_REJECT',
    usage: 'REJECT',
    commentIsMandatory: false,
  },
  {
    code: 'FURTHER_INFORMATION_REQUIRED',
    display: 'Further information required',
    reasonType: 'PROVIDER_REJECT',
    usage: 'REJECT',
    commentIsMandatory: false,
  },
  {
    code: 'OUTPATIENT_APPT_NOT_REQUIRED',
    display: 'Outpatient appointment not required',
    reasonType: 'PROVIDER_REJECT',
    usage: 'REJECT',
    commentIsMandatory: false,
  },
  {
    code: 'SERVICE_PREREQUISITES_NOT_COMPLETE',
    display: 'Pre-requisites for service not complete',
    reasonType: 'PROVIDER_REJECT',
    usage: 'REJECT',
    commentIsMandatory: false,
  },
  { code: 'OTHER', display: 'Other reason', reasonType: 'PROVIDER_REJECT', usage: 'REJECT', commentIsMandatory: false },
];

export const CODE_SYSTEMS: Record<string, { name: string; concepts: Concept[] }> = {
  PRIORITY: { name: 'e-RS Priority', concepts: PRIORITIES },
  SPECIALTY: { name: 'e-RS Specialty', concepts: SPECIALTIES },
  'CLINIC-TYPE': { name: 'e-RS Clinic Type', concepts: CLINIC_TYPES },
  'REFERRAL-CANCELLATION-REASON': {
    name: 'e-RS Referral Cancellation Reason',
    concepts: REFERRAL_CANCELLATION_REASONS,
  },
  'APPOINTMENT-CANCELLATION-REASON': {
    name: 'e-RS Appointment Cancellation Reason',
    concepts: APPOINTMENT_CANCELLATION_REASONS,
  },
};

export function concept(list: Concept[], code: string | undefined): Concept | undefined {
  return code === undefined ? undefined : list.find((item) => item.code === code);
}

const PROPERTY_URI = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Concept-Properties-1#';

/** The STU3 CodeSystem resource for a codeSystemType. */
export function codeSystemResource(type: string): FhirResource | undefined {
  const system = CODE_SYSTEMS[type];
  if (!system) return undefined;
  const property = (code: string, kind: string): Record<string, string> => ({
    code,
    uri: `${PROPERTY_URI}${code}`,
    type: kind,
  });
  return {
    id: type,
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/shareablecodesystem'] },
    resourceType: 'CodeSystem',
    url: `_baseUrl_/STU3/CodeSystem/${type}`,
    version: '1',
    name: system.name,
    status: 'active',
    experimental: false,
    publisher: 'e-Referral Service',
    description: system.name,
    caseSensitive: true,
    content: 'complete',
    property: [
      property('effectiveFrom', 'dateTime'),
      property('specialty', 'Coding'),
      property('commentIsMandatory', 'boolean'),
      property('triageContactDays', 'integer'),
    ],
    concept: system.concepts.map((item) => ({
      code: item.code,
      display: item.display,
      property: [
        { code: 'effectiveFrom', valueDateTime: '2004-06-01T00:00:00.000Z' },
        ...(item.specialty
          ? [
              {
                code: 'specialty',
                valueCoding: { system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: item.specialty },
              },
            ]
          : []),
        ...(item.commentIsMandatory === undefined
          ? []
          : [{ code: 'commentIsMandatory', valueBoolean: item.commentIsMandatory }]),
        ...(item.contactDays === undefined ? [] : [{ code: 'triageContactDays', valueInteger: item.contactDays }]),
      ],
    })),
  };
}
