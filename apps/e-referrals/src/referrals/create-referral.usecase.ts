import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  ERS_EVENTS,
  REFERRER_FUNCTIONS,
  type FhirReply,
  type FhirResource,
  type ResourceRequest,
} from '@platform/contracts-ers';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { DirectoryRepository } from '../directory/directory.repository';
import type { ServiceRecord } from '../directory/service-resource';
import { concept, CLINIC_TYPES, PRIORITIES, SPECIALTIES } from '../reference/code-systems';
import { Actors, type Actor } from '../shared/caller';
import { ERS_PDS } from '../shared/clients';
import { codeOf, invalid, parameter, parametersOf, refuseUnknown, SYSTEMS, type Parameter } from '../shared/fhir';
import { Organisations } from '../shared/organisations';
import { ReferralChanges } from './referral-changes';
import type { Referral, SearchCriteria } from './referral.repository';
import { ReferralRepository } from './referral.repository';

export const MAX_SHORTLIST = 20;
const ACCESS_CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

const CREATE_PARAMETERS = [
  'patient',
  'intentionToAddReferralLetter',
  'firstReminderLetterFollowUpDays',
  'eReferralPathwayStart',
  'shortlist',
  'referringClinician',
  'clinicalInfoPrinted',
] as const;
const CRITERIA_PARAMETERS = [
  'priority',
  'specialty',
  'clinicType',
  'postcode',
  'distanceLimit',
  'ageAndGenderAppropriate',
  'commissioningProvisioning',
  'namedClinician',
  'indicativeAppointmentWaitTimeLimit',
  'clinicalTerm',
  'organisation',
  'place',
] as const;

/** The patient access code printed on the patient's letter (they book with it and the UBRN). */
export function newAccessCode(): string {
  let code = '';
  for (let i = 0; i < 12; i += 1) code += ACCESS_CODE_ALPHABET.charAt(randomInt(ACCESS_CODE_ALPHABET.length));
  return code;
}

/** The eRS-ServiceSearchCriteria-Parameters (A010's searchCriteria, a shortlist's contained criteria). */
export function searchCriteriaOf(resource: FhirResource | undefined, path: string): SearchCriteria {
  const parameters = parametersOf(resource, path);
  refuseUnknown(parameters, CRITERIA_PARAMETERS, `${path}/parameter`);
  const priority = codeOf(parameter(parameters, 'priority'));
  if (!priority) throw invalid(`${path}: priority is required`, 'MISSING_VALUE');
  if (!concept(PRIORITIES, priority)) throw invalid(`${path}: unknown priority '${priority}'`, 'INVALID_CODE');
  const specialty = codeOf(parameter(parameters, 'specialty'));
  if (specialty !== undefined && !concept(SPECIALTIES, specialty)) {
    throw invalid(`${path}: unknown specialty '${specialty}'`, 'INVALID_CODE');
  }
  const clinicType = codeOf(parameter(parameters, 'clinicType'));
  if (clinicType !== undefined && !concept(CLINIC_TYPES, clinicType)) {
    throw invalid(`${path}: unknown clinic type '${clinicType}'`, 'INVALID_CODE');
  }
  const postcode = parameter(parameters, 'postcode')?.valueString;
  const distance = parameter(parameters, 'distanceLimit')?.valueUnsignedInt;
  if (
    distance !== undefined &&
    (typeof distance !== 'number' || !Number.isInteger(distance) || distance < 1 || distance > 1000)
  ) {
    throw invalid(`${path}: distanceLimit must be a whole number of miles from 1 to 1000`);
  }
  const appropriate = parameter(parameters, 'ageAndGenderAppropriate')?.valueBoolean;
  const wait = parameter(parameters, 'indicativeAppointmentWaitTimeLimit')?.valueUnsignedInt;
  if (wait !== undefined && (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 3650)) {
    throw invalid(`${path}: indicativeAppointmentWaitTimeLimit must be a whole number of days`);
  }
  return {
    priority,
    ...(specialty ? { specialty } : {}),
    ...(clinicType ? { clinicType } : {}),
    ...(typeof postcode === 'string' ? { postcode: postcode.slice(0, 10) } : {}),
    ...(typeof distance === 'number' ? { distanceLimit: distance } : {}),
    ...(typeof appropriate === 'boolean' ? { ageAndGenderAppropriate: appropriate } : {}),
    ...(typeof wait === 'number' ? { waitTimeLimitDays: wait } : {}),
  };
}

/** The shortlist List: at most 20 services, no duplicates, and its contained search criteria. */
export function shortlistOf(
  list: FhirResource | undefined,
  path: string,
): { serviceIds: string[]; criteria: SearchCriteria } {
  if (!list || list.resourceType !== 'List') throw invalid(`${path} must be a FHIR List`, 'MISSING_VALUE');
  const contained = Array.isArray(list['contained']) ? (list['contained'] as FhirResource[]) : [];
  const criteria = searchCriteriaOf(
    contained.find((resource) => resource?.resourceType === 'Parameters'),
    `${path}/contained`,
  );
  const entries = Array.isArray(list['entry'])
    ? (list['entry'] as { item?: { identifier?: { system?: unknown; value?: unknown } } }[])
    : [];
  if (entries.length === 0) throw invalid(`${path}: the shortlist needs at least one service`, 'MISSING_VALUE');
  if (entries.length > MAX_SHORTLIST) {
    throw invalid(
      `${path}: a shortlist holds at most ${MAX_SHORTLIST} services, not ${entries.length}`,
      'TOO_MANY_ITEMS',
    );
  }
  const serviceIds = entries.map((entry, index) => {
    const identifier = entry?.item?.identifier;
    if (
      identifier?.system !== SYSTEMS.ersService ||
      typeof identifier.value !== 'string' ||
      !/^[0-9]{1,12}$/.test(identifier.value)
    ) {
      throw invalid(`${path}/entry[${index}]/item/identifier must be an e-RS service id (${SYSTEMS.ersService})`);
    }
    return identifier.value;
  });
  const duplicate = serviceIds.find((id, index) => serviceIds.indexOf(id) !== index);
  if (duplicate) throw invalid(`${path}: service ${duplicate} is on the shortlist twice`, 'DUPLICATE_SERVICE');
  return { serviceIds, criteria };
}

/** Services of a shortlist: each known and active, and of the criteria's specialty when one is given. */
export function checkShortlisted(
  serviceIds: string[],
  services: ServiceRecord[],
  criteria: SearchCriteria,
): ServiceRecord[] {
  const byId = new Map(services.map((service) => [service.id, service]));
  return serviceIds.map((id) => {
    const service = byId.get(id);
    if (!service || !service.active) throw invalid(`Service ${id} is not an active service`, 'REFERENCE_NOT_FOUND');
    if (criteria.specialty && service.specialty !== criteria.specialty) {
      throw invalid(
        `Service ${id} is a ${service.specialty} service, not ${criteria.specialty}`,
        'INAPPROPRIATE_VALUE',
      );
    }
    if (!service.priorities.includes(criteria.priority)) {
      throw invalid(`Service ${id} does not take ${criteria.priority} referrals`, 'INAPPROPRIATE_VALUE');
    }
    return service;
  });
}

/**
 * A011 create referral (NOT_BOOKED) and A021 create and send for triage (AWAITING_TRIAGE at its one triage
 * service): the patient must be in PDS and alive, the referrer's organisation active in the directory, the
 * shortlist valid. A new UBRN and patient access code; ers.referral.created.v1. Once per X-Request-ID.
 */
@Injectable()
export class CreateReferralUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
    private readonly changes: ReferralChanges,
    private readonly organisations: Organisations,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    @Inject(ERS_PDS) private readonly pds: PdsApi,
  ) {}

  async execute(request: ResourceRequest, context: CallContext, sendForTriage: boolean): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const parameters = parametersOf(request.resource, 'parameter');
    refuseUnknown(parameters, CREATE_PARAMETERS, 'parameter');
    const nhsNumber = this.patientOf(parameters);
    const { serviceIds, criteria } = shortlistOf(parameter(parameters, 'shortlist')?.resource, 'parameter/shortlist');
    const pathwayStart = this.pathwayStartOf(parameters);
    const services = checkShortlisted(serviceIds, await this.directory.services(serviceIds), criteria);
    if (sendForTriage && (services.length !== 1 || !services[0]?.triage)) {
      throw invalid(
        'Create and send for triage takes a shortlist of exactly one triage service',
        'INAPPROPRIATE_VALUE',
      );
    }
    await Promise.all([
      this.checkPatient(nhsNumber, context),
      this.organisations.requireActive(actor.organisation, context),
    ]);
    const key = writeKey(context, sendForTriage ? 'referral.create-for-triage' : 'referral.create', request.resource);
    const reply = await this.writes.run(key, async (transaction) => {
      const ubrn = await this.referrals.nextUbrn(transaction);
      const target = sendForTriage ? services[0] : undefined;
      const referral: Referral = {
        ubrn,
        version: 1,
        state: target ? 'AWAITING_TRIAGE' : 'NOT_BOOKED',
        patientNhsNumber: nhsNumber,
        priority: criteria.priority,
        specialty: criteria.specialty ?? null,
        clinicType: criteria.clinicType ?? null,
        referrerOds: actor.organisation,
        referrerUser: actor.userId,
        accessCode: newAccessCode(),
        serviceId: target?.id ?? null,
        providerOds: target?.odsCode ?? null,
        appointmentId: null,
        searchCriteria: criteria,
        pathwayStart,
        createdAt: new Date().toISOString(),
      };
      await this.referrals.insert(transaction, referral);
      const created = await this.changes.save(
        transaction,
        referral,
        {
          referral,
          action: sendForTriage ? 'CREATE_AND_SEND_FOR_TRIAGE' : 'CREATE',
          event: ERS_EVENTS.referralCreated,
          shortlist: serviceIds,
        },
        actor,
        context,
      );
      if (target) {
        await this.outbox.append(
          transaction,
          ERS_EVENTS.referralSentForTriage,
          {
            ubrn,
            versionId: 1,
            state: referral.state,
            serviceId: target.id,
            referrerOdsCode: actor.organisation,
            providerOdsCode: target.odsCode,
            occurredAt: new Date().toISOString(),
          },
          context,
        );
      }
      return { ...created, location: `STU3/ReferralRequest/${ubrn}` };
    });
    this.outbox.kick();
    return reply;
  }

  private patientOf(parameters: Parameter[]): string {
    const identifier = parameter(parameters, 'patient')?.valueIdentifier;
    if (!identifier) throw invalid('parameter patient is required', 'MISSING_VALUE');
    if (
      identifier.system !== SYSTEMS.nhsNumber ||
      typeof identifier.value !== 'string' ||
      !isValidNhsNumber(identifier.value)
    ) {
      throw invalid(`The patient must be a valid NHS number (${SYSTEMS.nhsNumber})`);
    }
    return identifier.value;
  }

  private pathwayStartOf(parameters: Parameter[]): string | null {
    const value = parameter(parameters, 'eReferralPathwayStart')?.valueInstant;
    if (value === undefined) return null;
    const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) throw invalid('eReferralPathwayStart must be an instant');
    if (at > Date.now()) throw invalid('eReferralPathwayStart must be in the past', 'INAPPROPRIATE_VALUE');
    return new Date(at).toISOString();
  }

  /** The patient exists in PDS and is not recorded as deceased. */
  private async checkPatient(nhsNumber: string, context: CallContext): Promise<void> {
    const found = await this.pds.getPatient({ nhsNumber }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
        throw invalid(`Patient ${nhsNumber} is not known to PDS`, 'REFERENCE_NOT_FOUND');
      }
      throw error;
    });
    const patient = found.patient as unknown as Record<string, unknown>;
    const deceased = patient['deceasedDateTime'] ?? patient['deceasedBoolean'];
    if (deceased !== undefined && deceased !== false) {
      throw invalid(`Patient ${nhsNumber} is recorded in PDS as deceased`, 'PATIENT_ERROR');
    }
  }
}

export type { Actor };
