import { Injectable } from '@nestjs/common';
import type { FhirReply, FhirResource, ResourceRequest } from '@platform/contracts-ers';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { invalid, SYSTEMS } from '../shared/fhir';
import { DirectoryRepository, type NewSlot } from './directory.repository';
import { requirePublisher } from './publish-service.usecase';
import { serviceNotFound } from './service-resource';

/** The most slots one publish takes (a clinic's months of sessions); more go in further calls. */
export const MAX_SLOTS_PER_PUBLISH = 3000;
const APPOINTMENT_TYPES = ['ROUTINE', 'URGENT', 'TWO_WEEK_WAIT'];

interface Entry {
  resource?: FhirResource;
}

function instant(value: unknown, where: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw invalid(`${where} must be an instant (ISO 8601 date and time)`);
  }
  return new Date(value).toISOString();
}

/**
 * Publishes one schedule of a service and its slots in bulk (R4 Bundle: one Schedule whose actor is the
 * HealthcareService, then up to 5,000 Slots referring to it). All or nothing; once per X-Request-ID.
 */
@Injectable()
export class PublishSlotsUseCase {
  constructor(
    private readonly directory: DirectoryRepository,
    private readonly writes: IdempotentWrites,
  ) {}

  async execute(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const bundle = request.resource;
    if (bundle.resourceType !== 'Bundle' || !Array.isArray(bundle['entry'])) {
      throw invalid('The request body must be a FHIR Bundle of one Schedule and its Slots');
    }
    const entries = (bundle['entry'] as Entry[]).map((entry) => entry?.resource);
    const schedules = entries.filter((resource) => resource?.resourceType === 'Schedule');
    const slotResources = entries.filter((resource) => resource?.resourceType === 'Slot');
    if (schedules.length !== 1 || slotResources.length + 1 !== entries.length) {
      throw invalid('The Bundle must hold exactly one Schedule and otherwise only Slots');
    }
    if (slotResources.length > MAX_SLOTS_PER_PUBLISH) {
      throw invalid(
        `At most ${MAX_SLOTS_PER_PUBLISH} slots per publish, not ${slotResources.length}`,
        'TOO_MANY_ITEMS',
      );
    }
    const schedule = schedules[0] as FhirResource;
    const scheduleId = schedule['id'];
    if (typeof scheduleId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(scheduleId)) {
      throw invalid('Schedule.id must be 1 to 64 letters, digits or hyphens');
    }
    const actor = (schedule['actor'] as { reference?: unknown }[] | undefined)?.[0]?.reference;
    const serviceId = typeof actor === 'string' ? /^HealthcareService\/([0-9]{1,12})$/.exec(actor)?.[1] : undefined;
    if (!serviceId) throw invalid("Schedule.actor[0] must reference the service, 'HealthcareService/{id}'");
    const service = await this.directory.service(serviceId);
    if (!service) throw serviceNotFound(serviceId);
    requirePublisher(context, service.odsCode);
    const clinicianRef = (schedule['actor'] as { identifier?: { system?: string; value?: unknown } }[])
      .map((item) => item.identifier)
      .find((identifier) => identifier?.system === SYSTEMS.sdsUser)?.value;
    const clinician = typeof clinicianRef === 'string' ? clinicianRef : null;
    if (clinician && !service.clinicians.some((item) => item.sdsUserId === clinician)) {
      throw invalid(`Clinician ${clinician} is not a named clinician of service ${serviceId}`, 'REFERENCE_NOT_FOUND');
    }
    const slots: NewSlot[] = slotResources.map((resource, index) => {
      const slot = resource as FhirResource;
      const reference = (slot['schedule'] as { reference?: unknown } | undefined)?.reference;
      if (reference !== `Schedule/${scheduleId}`)
        throw invalid(`Slot ${index}: schedule must be Schedule/${scheduleId}`);
      if (slot['status'] !== undefined && slot['status'] !== 'free')
        throw invalid(`Slot ${index}: a published slot is free`);
      const start = instant(slot['start'], `Slot ${index}: start`);
      const end = instant(slot['end'], `Slot ${index}: end`);
      if (end <= start) throw invalid(`Slot ${index}: end must be after start`);
      const kind = (slot['appointmentType'] as { coding?: { code?: unknown }[] } | undefined)?.coding?.[0]?.code;
      const appointmentType = typeof kind === 'string' ? kind : 'ROUTINE';
      if (!APPOINTMENT_TYPES.includes(appointmentType))
        throw invalid(`Slot ${index}: unknown appointment type`, 'INVALID_CODE');
      return { start, end, appointmentType };
    });
    const key = writeKey(context, 'slots.publish', bundle);
    return this.writes.run(key, async (transaction) => {
      const owner = await this.directory.scheduleService(transaction, scheduleId);
      if (owner !== undefined && owner !== serviceId) {
        throw invalid(`Schedule ${scheduleId} belongs to another service`, 'INAPPROPRIATE_VALUE');
      }
      const scheduleResource = {
        resourceType: 'Schedule',
        id: scheduleId,
        identifier: [{ system: SYSTEMS.schedule, value: scheduleId }],
        actor: [{ identifier: { system: SYSTEMS.ersService, value: serviceId } }],
      };
      await this.directory.saveSchedule(transaction, {
        id: scheduleId,
        serviceId,
        clinician,
        resource: scheduleResource,
      });
      const ids = await this.directory.insertSlots(transaction, scheduleId, serviceId, slots);
      return {
        resource: {
          resourceType: 'Bundle',
          type: 'batch-response',
          total: ids.length,
          entry: [
            { response: { status: '201 Created', location: `Schedule/${scheduleId}` } },
            ...ids.map((id) => ({ response: { status: '201 Created', location: `Slot/${id}` } })),
          ],
        },
      };
    });
  }
}
