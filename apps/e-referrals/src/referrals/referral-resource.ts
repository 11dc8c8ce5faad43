import type { FhirResource } from '@platform/contracts-ers';
import type { ServiceRecord } from '../directory/service-resource';
import { concept, PRIORITIES, SPECIALTIES } from '../reference/code-systems';
import { EXTENSIONS, PROFILES, SYSTEMS } from '../shared/fhir';
import { STATE_DISPLAY } from '../shared/states';
import type { Referral, SearchCriteria } from './referral.repository';

function criteriaParameters(criteria: SearchCriteria): Record<string, unknown>[] {
  return [
    { name: 'priority', valueCoding: { system: SYSTEMS.priority, code: criteria.priority } },
    ...(criteria.specialty
      ? [{ name: 'specialty', valueCoding: { system: SYSTEMS.specialty, code: criteria.specialty } }]
      : []),
    ...(criteria.clinicType
      ? [{ name: 'clinicType', valueCoding: { system: SYSTEMS.clinicType, code: criteria.clinicType } }]
      : []),
    ...(criteria.postcode ? [{ name: 'postcode', valueString: criteria.postcode }] : []),
    ...(criteria.distanceLimit !== undefined
      ? [{ name: 'distanceLimit', valueUnsignedInt: criteria.distanceLimit }]
      : []),
    ...(criteria.waitTimeLimitDays !== undefined
      ? [{ name: 'indicativeAppointmentWaitTimeLimit', valueUnsignedInt: criteria.waitTimeLimitDays }]
      : []),
    ...(criteria.ageAndGenderAppropriate !== undefined
      ? [{ name: 'ageAndGenderAppropriate', valueBoolean: criteria.ageAndGenderAppropriate }]
      : []),
  ];
}

/** Why the referral is in its state, as the state extension's `reason` and `comments` (A022's answer). */
export interface StateDetail {
  reason: { system: string; code: string; display: string };
  comments?: string;
}

/** The STU3 eRS-ReferralRequest-1 (A005, A011 and every change's answer), as the NHS examples show it. */
export function referralResource(
  referral: Referral,
  shortlist: Pick<ServiceRecord, 'id' | 'name'>[],
  appointment?: FhirResource,
  stateDetail?: StateDetail,
): FhirResource {
  const priority = concept(PRIORITIES, referral.priority);
  const specialty = concept(SPECIALTIES, referral.specialty ?? undefined);
  return {
    id: referral.ubrn,
    meta: { versionId: String(referral.version), profile: [PROFILES.referralRequest] },
    resourceType: 'ReferralRequest',
    extension: [
      ...(appointment
        ? [
            { url: EXTENSIONS.appointment, valueReference: { reference: '#appointment' } },
            {
              url: EXTENSIONS.appointmentReference,
              valueReference: { reference: `Appointment/${String(appointment['id'])}` },
            },
          ]
        : []),
      {
        url: EXTENSIONS.priority,
        valueCodeableConcept: {
          coding: [
            { system: SYSTEMS.priority, code: referral.priority, display: priority?.display ?? referral.priority },
          ],
        },
      },
      ...(referral.pathwayStart ? [{ url: EXTENSIONS.pathwayStart, valueInstant: referral.pathwayStart }] : []),
      { url: EXTENSIONS.shortlist, valueReference: { reference: '#shortlist' } },
      { url: EXTENSIONS.commissioningOrg, valueIdentifier: { system: SYSTEMS.ods, value: referral.referrerOds } },
      {
        url: EXTENSIONS.state,
        extension: [
          {
            url: 'state',
            valueCoding: {
              system: SYSTEMS.referralState,
              code: referral.state,
              display: STATE_DISPLAY[referral.state],
            },
          },
          ...(stateDetail ? [{ url: 'reason', valueCoding: stateDetail.reason }] : []),
          ...(stateDetail?.comments ? [{ url: 'comments', valueString: stateDetail.comments }] : []),
        ],
      },
    ],
    contained: [
      {
        id: 'serviceSearchCriteria',
        meta: { profile: [PROFILES.searchCriteria] },
        resourceType: 'Parameters',
        parameter: criteriaParameters(referral.searchCriteria),
      },
      {
        id: 'shortlist',
        meta: { profile: [PROFILES.shortlist] },
        resourceType: 'List',
        extension: [{ url: EXTENSIONS.shortlistCriteria, valueReference: { reference: '#serviceSearchCriteria' } }],
        status: 'current',
        mode: 'snapshot',
        entry: shortlist.map((service) => ({
          item: { identifier: { system: SYSTEMS.ersService, value: service.id }, display: service.name },
        })),
      },
      ...(appointment ? [{ ...appointment, id: 'appointment' }] : []),
    ],
    status: referral.state === 'CANCELLED_REFERRAL' ? 'cancelled' : 'active',
    ...(specialty
      ? { specialty: { coding: [{ system: SYSTEMS.specialty, code: specialty.code, display: specialty.display }] } }
      : {}),
    subject: { identifier: { system: SYSTEMS.nhsNumber, value: referral.patientNhsNumber } },
    // A referral converted from Advice and Guidance names the request in every version (A027's answer, A005).
    supportingInfo: referral.adviceUbrn ? [{ reference: `CommunicationRequest/${referral.adviceUbrn}` }] : [],
    intent: 'plan',
  };
}

/** The STU3 eRS-Appointment-1 (A016's answer, A038). */
export function appointmentResource(appointment: {
  id: string;
  version: number;
  status: 'booked' | 'proposed' | 'cancelled';
  service: Pick<ServiceRecord, 'id' | 'name'>;
  patientNhsNumber: string;
  ubrn: string;
  referralVersion: number;
  slot?: { id: string; start: string; end: string };
  reason?: string;
  /** The reason as a full coding, when it is not an eRS-ReviewReason-1 code (A022's eRS-ReviewOutcome-1). */
  reasonCoding?: { system: string; code: string; display: string };
  comment?: string;
  clinician?: string;
  created: string;
  cancellationReason?: string;
}): FhirResource {
  return {
    id: appointment.id,
    meta: { versionId: String(appointment.version), profile: [PROFILES.appointment, PROFILES.careConnectAppointment] },
    language: 'en',
    resourceType: 'Appointment',
    status: appointment.status,
    ...(appointment.reasonCoding
      ? { reason: [{ coding: [appointment.reasonCoding] }] }
      : appointment.reason
        ? { reason: [{ coding: [{ system: SYSTEMS.reviewReason, code: appointment.reason }] }] }
        : {}),
    description: 'e-Referral Appointment',
    ...(appointment.slot ? { start: appointment.slot.start, end: appointment.slot.end } : {}),
    ...(appointment.slot ? { slot: [{ reference: `Slot/${appointment.slot.id}` }] } : {}),
    created: appointment.created,
    ...(appointment.comment ? { comment: appointment.comment } : {}),
    incomingReferral: [{ reference: `ReferralRequest/${appointment.ubrn}/_history/${appointment.referralVersion}` }],
    participant: [
      {
        actor: {
          identifier: { system: SYSTEMS.ersService, value: appointment.service.id },
          display: appointment.service.name,
        },
        status: 'accepted',
      },
      { actor: { identifier: { system: SYSTEMS.nhsNumber, value: appointment.patientNhsNumber } }, status: 'accepted' },
      ...(appointment.clinician
        ? [
            {
              type: { coding: [{ system: 'http://hl7.org/fhir/ValueSet/encounter-participant-type', code: 'CON' }] },
              actor: { identifier: { system: SYSTEMS.sdsUser, value: appointment.clinician } },
              status: 'accepted',
            },
          ]
        : []),
    ],
  };
}
