import { Inject, Injectable } from '@nestjs/common';
import {
  businessFunctionsOf,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
  type FhirReply,
  type FhirResource,
  type QueryRequest,
  type ReadRequest,
  type ResourceRequest,
} from '@platform/contracts-ers';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { searchCriteriaOf } from '../referrals/create-referral.usecase';
import { ReferralRepository } from '../referrals/referral.repository';
import { codeSystemResource } from '../reference/code-systems';
import { Actors, isReferrer } from '../shared/caller';
import { ERS_PDS } from '../shared/clients';
import { invalid, parameter, parametersOf, refuseUnknown, SYSTEMS } from '../shared/fhir';
import { DirectoryRepository, type SlotRecord } from './directory.repository';
import { normalisePostcode, serviceNotFound, serviceResource, type ServiceRecord } from './service-resource';

const METRES_PER_MILE = 1609.344;
/** The most services A010 answers (the NHS caps its list; a referrer narrows the criteria for more). */
export const SEARCH_LIMIT = 100;
const MAX_PAGE_SIZE = 100;

/** A015's paging errors are 400 INVALID_VALUE, as the NHS example shows (`'Page Number' (5) is invalid.`). */
function pageError(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, { diagnostics });
}

function first(query: QueryRequest['query'], name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

function ageInYears(birthDate: string, now = new Date()): number | undefined {
  const born = new Date(birthDate);
  if (Number.isNaN(born.getTime())) return undefined;
  let age = now.getUTCFullYear() - born.getUTCFullYear();
  const before =
    now.getUTCMonth() < born.getUTCMonth() ||
    (now.getUTCMonth() === born.getUTCMonth() && now.getUTCDate() < born.getUTCDate());
  if (before) age -= 1;
  return age;
}

function unknownPostcode(postcode: string): PlatformError {
  return invalid(`Postcode '${postcode}' is not known`, 'REFERENCE_NOT_FOUND');
}

/** A010 search, A015 slots, A033/A035/A037 services, A004 code systems, A030 business functions. */
@Injectable()
export class DirectoryReadsUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly directory: DirectoryRepository,
    private readonly referrals: ReferralRepository,
    @Inject(ERS_PDS) private readonly pds: PdsApi,
  ) {}

  /** A004. */
  async codeSystem(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    await this.actors.resolve(context, request, READER_FUNCTIONS);
    const resource = codeSystemResource(request.id);
    if (!resource)
      throw new PlatformError('RESOURCE_NOT_FOUND', undefined, {
        diagnostics: `No code system ${request.id.slice(0, 40)}`,
      });
    return { resource };
  }

  /** A030: the caller's business functions at the organisation it acts for (R4 PractitionerRole Bundle). */
  businessFunctions(request: QueryRequest, context: CallContext): FhirReply {
    const caller = context.caller;
    const user = first(request.query, 'user');
    if (user !== undefined && user !== caller?.id && user !== caller?.username) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: 'A user may only read their own business functions',
      });
    }
    const organisation = caller?.organisation;
    const functions = organisation ? businessFunctionsOf(caller?.roles ?? []) : [];
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        total: functions.length,
        entry: functions.map((code) => ({
          resource: {
            resourceType: 'PractitionerRole',
            practitioner: { identifier: { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: caller?.id } },
            organization: { identifier: { system: SYSTEMS.ods, value: organisation } },
            code: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-BusinessFunction', code }] }],
          },
        })),
      },
    };
  }

  /** A010: services for a patient by priority, specialty, clinic type, distance from a postcode, wait, age and sex. */
  async search(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const parameters = parametersOf(request.resource, 'parameter');
    refuseUnknown(parameters, ['requestType', 'sortBy', 'patient', 'searchCriteria'], 'parameter');
    const criteria = searchCriteriaOf(parameter(parameters, 'searchCriteria')?.resource, 'parameter/searchCriteria');
    const nhsNumber = parameter(parameters, 'patient')?.valueIdentifier?.value;
    if (typeof nhsNumber !== 'string' || !isValidNhsNumber(nhsNumber))
      throw invalid('The patient must be a valid NHS number');
    let near: { postcode: string; metres: number } | undefined;
    if (criteria.postcode) {
      const postcode = normalisePostcode(criteria.postcode);
      if (!postcode) throw unknownPostcode(criteria.postcode);
      near = { postcode, metres: (criteria.distanceLimit ?? 50) * METRES_PER_MILE };
    }
    let patientAgeYears: number | undefined;
    let patientGender: 'MALE' | 'FEMALE' | undefined;
    if (criteria.ageAndGenderAppropriate) {
      const found = await this.pds.getPatient({ nhsNumber }, context).catch((error: unknown) => {
        if (error instanceof PlatformError && error.code === 'RESOURCE_NOT_FOUND') {
          throw invalid(`Patient ${nhsNumber} is not known to PDS`, 'REFERENCE_NOT_FOUND');
        }
        throw error;
      });
      const patient = found.patient as unknown as { birthDate?: string; gender?: string };
      patientAgeYears = patient.birthDate ? ageInYears(patient.birthDate) : undefined;
      patientGender = patient.gender === 'male' ? 'MALE' : patient.gender === 'female' ? 'FEMALE' : undefined;
    }
    const { postcodeKnown, services } = await this.directory.search({
      priority: criteria.priority,
      ...(criteria.specialty ? { specialty: criteria.specialty } : {}),
      ...(criteria.clinicType ? { clinicType: criteria.clinicType } : {}),
      ...(near ? { near } : {}),
      ...(criteria.waitTimeLimitDays !== undefined ? { maxWaitDays: criteria.waitTimeLimitDays } : {}),
      ...(patientAgeYears !== undefined ? { patientAgeYears } : {}),
      ...(patientGender ? { patientGender } : {}),
      limit: SEARCH_LIMIT,
    });
    if (!postcodeKnown && criteria.postcode) throw unknownPostcode(criteria.postcode);
    return { resource: serviceList(services) };
  }

  /** A015: `schedule.actor:HealthcareService={id}&status=free&_include=Slot:schedule&_count=n&page=p`. */
  async slots(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const serviceId = first(request.query, 'schedule.actor:HealthcareService');
    if (!serviceId || !/^[0-9]{1,12}$/.test(serviceId)) {
      throw invalid("'schedule.actor:HealthcareService' must be a service id", 'MISSING_VALUE');
    }
    const count = Number(first(request.query, '_count') ?? '20');
    if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE_SIZE) {
      throw pageError(`'Page Size' (${String(first(request.query, '_count')).slice(0, 10)}) is invalid.`);
    }
    const page = Number(first(request.query, 'page') ?? '1');
    if (!Number.isInteger(page) || page < 1 || page > 100_000) {
      throw pageError(`'Page Number' (${String(first(request.query, 'page')).slice(0, 10)}) is invalid.`);
    }
    const appointmentType = first(request.query, 'appointmentType');
    const { serviceExists, total, slots } = await this.directory.freeSlots(serviceId, {
      offset: (page - 1) * count,
      limit: count,
      ...(appointmentType ? { appointmentType } : {}),
      from: new Date(),
    });
    if (!serviceExists) throw serviceNotFound(serviceId);
    if (page > 1 && slots.length === 0) throw pageError(`'Page Number' (${page}) is invalid.`);
    void actor;
    return { resource: slotBundle(serviceId, total, slots, { count, page, appointmentType }) };
  }

  /** A033 (current) and A037 (a version). */
  async service(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    await this.actors.resolve(context, request, READER_FUNCTIONS);
    if (request.version !== undefined) {
      const resource = await this.directory.serviceVersion(request.id, Number(request.version));
      if (!resource) throw serviceNotFound(request.id);
      return { resource, versionId: request.version };
    }
    const service = await this.directory.service(request.id);
    if (!service) throw serviceNotFound(request.id);
    return { resource: serviceResource(service), versionId: String(service.version) };
  }

  /** A035: `_id=1,2,...` (up to 20). */
  async services(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    await this.actors.resolve(context, request, READER_FUNCTIONS);
    const raw = request.query['_id'];
    const ids = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',').filter((id) => id !== '');
    if (ids.length === 0) throw invalid('_id is required', 'MISSING_VALUE');
    if (ids.length > 20) throw invalid(`_id takes at most 20 service ids, not ${ids.length}`, 'TOO_MANY_ITEMS');
    if (ids.some((id) => !/^[0-9]{1,12}$/.test(id))) throw invalid('_id must be service ids');
    const found = await this.directory.services(ids);
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        total: found.length,
        link: [{ relation: 'self', url: `_baseUrl_/R4/HealthcareService?_id=${ids.join(',')}` }],
        entry: found.map((service) => ({
          fullUrl: `_baseUrl_/R4/HealthcareService/${service.id}`,
          resource: serviceResource(service),
          search: { mode: 'match' },
        })),
      },
    };
  }

  /** A041: `identifier=https://fhir.nhs.uk/Id/ers-ubrn|{ubrn}` (or the bare UBRN). */
  async serviceRequests(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    const identifier = first(request.query, 'identifier') ?? '';
    const ubrn = identifier.split('|').pop() ?? '';
    if (!/^[0-9]{12}$/.test(ubrn)) throw invalid('identifier must carry a UBRN (12 digits)', 'MISSING_VALUE');
    const found = await this.referrals.readAudited(ubrn, undefined, 'A041', {
      ...context,
      businessFunction: actor.businessFunction,
      ...(actor.onBehalfOf === undefined ? {} : { onBehalfOf: actor.onBehalfOf }),
    });
    const visible =
      found &&
      (isReferrer(actor)
        ? found.referrerOds === actor.organisation
        : found.providerOds === actor.organisation || found.shortlistOds.includes(actor.organisation));
    const referral = visible ? (found.resource ?? undefined) : undefined;
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        total: referral ? 1 : 0,
        entry: referral
          ? [
              {
                fullUrl: `_baseUrl_/R4/ServiceRequest/${ubrn}`,
                resource: {
                  resourceType: 'ServiceRequest',
                  id: ubrn,
                  meta: { versionId: String(found?.version) },
                  identifier: [{ system: 'https://fhir.nhs.uk/Id/ers-ubrn', value: ubrn }],
                  status: referral['status'],
                  intent: 'order',
                  category: [
                    {
                      coding: [
                        { system: 'https://fhir.nhs.uk/CodeSystem/eRS-ServiceRequestCategory', code: 'REFERRAL' },
                      ],
                    },
                  ],
                  subject: referral['subject'],
                },
                search: { mode: 'match' },
              },
            ]
          : [],
      },
    };
  }
}

/** The A010 answer: an eRS-FetchServices-List-1. */
export function serviceList(services: (ServiceRecord & { distanceMetres: number | null })[]): FhirResource {
  const base: FhirResource = {
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchServices-List-1'] },
    resourceType: 'List',
    status: 'current',
    mode: 'snapshot',
    entry: services.map((service) => ({
      extension: [
        {
          extension: [
            { url: 'displayProminently', valueBoolean: false },
            { url: 'indicativeAppointmentWaitTime', valueUnsignedInt: service.indicativeWaitDays },
            ...(service.distanceMetres === null
              ? []
              : [{ url: 'distance', valueDecimal: Math.round((service.distanceMetres / METRES_PER_MILE) * 10) / 10 }]),
          ],
          url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ServiceSearch-ListItem-1',
        },
      ],
      item: {
        extension: [
          {
            extension: [
              { url: 'serviceName', valueString: service.name },
              {
                url: 'specialty',
                valueCodeableConcept: { coding: [{ system: SYSTEMS.specialty, code: service.specialty }] },
              },
              {
                url: 'genderTreated',
                valueCodeableConcept: { coding: [{ system: SYSTEMS.genderTreated, code: service.genderTreated }] },
              },
              {
                url: 'bookableType',
                valueCodeableConcept: { coding: [{ system: SYSTEMS.bookableType, code: service.bookableType }] },
              },
              {
                url: 'location',
                valueReference: {
                  identifier: {
                    system: 'https://directory.spineservices.nhs.uk/STU3/Organization',
                    value: service.odsCode,
                  },
                },
              },
              {
                url: 'supportedRequestFlowType',
                valueCodeableConcept: {
                  coding: [
                    { system: SYSTEMS.requestFlow, code: service.triage ? 'TRIAGE_REQUEST' : 'APPOINTMENT_REQUEST' },
                  ],
                },
              },
            ],
            url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ServiceSummaryView-1',
          },
        ],
        identifier: { system: SYSTEMS.ersService, value: service.id },
      },
    })),
  };
  if (services.length === 0) {
    base['emptyReason'] = {
      coding: [{ system: 'http://hl7.org/fhir/ValueSet/list-empty-reason', code: 'nilknown', display: 'no results' }],
    };
  }
  return base;
}

/** The A015 answer: a searchset of Slots and their Schedules, with self and next links. */
export function slotBundle(
  serviceId: string,
  total: number,
  slots: SlotRecord[],
  page: { count: number; page: number; appointmentType?: string },
): FhirResource {
  const url = (n: number): string =>
    `_baseUrl_/STU3/Slot?schedule.actor%3AHealthcareService=${serviceId}${page.appointmentType ? `&appointmentType=${page.appointmentType}` : ''}&_count=${page.count}&status=free&_include=Slot%3Aschedule&page=${n}`;
  const schedules = [...new Set(slots.map((slot) => slot.scheduleId))];
  return {
    resourceType: 'Bundle',
    meta: { lastUpdated: new Date().toISOString(), profile: ['http://hl7.org/fhir/STU3/StructureDefinition/Bundle'] },
    type: 'searchset',
    total,
    link: [
      { relation: 'self', url: url(page.page) },
      ...(page.page * page.count < total ? [{ relation: 'next', url: url(page.page + 1) }] : []),
    ],
    entry: [
      ...slots.map((slot) => ({
        fullUrl: `_baseUrl_/STU3/Slot/${slot.id}`,
        resource: {
          id: slot.id,
          meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Slot-1'] },
          resourceType: 'Slot',
          identifier: [{ system: SYSTEMS.alternativeSlot, value: `USRN-${slot.id}` }],
          schedule: { reference: `Schedule/${slot.scheduleId}` },
          status: slot.status,
          start: slot.start,
          end: slot.end,
        },
        search: { mode: 'match' },
      })),
      ...schedules.map((id) => ({
        fullUrl: `_baseUrl_/STU3/Schedule/${id}`,
        resource: {
          id,
          meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Schedule-1'] },
          resourceType: 'Schedule',
          identifier: [{ system: SYSTEMS.schedule, value: id }],
          actor: [{ identifier: { system: SYSTEMS.ersService, value: serviceId } }],
        },
        search: { mode: 'include' },
      })),
    ],
  };
}
