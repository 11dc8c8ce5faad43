import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ERS_PROVIDERS,
  ERS_PUBLISHERS,
  ERS_REFERRERS,
  ERS_USERS,
  type EReferralsApi,
  type FhirResource,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import { BODY_LIMITS, FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { callContextOf } from '../http/call-context';
import { ErsCaller, ifMatchOf } from './ers-call';
import { resourceBody, sendFhir, sendFhirDocument, ON_BEHALF_OF_API_HEADER } from './ers-http';

export const E_REFERRALS_CLIENT = Symbol('E_REFERRALS_CLIENT');

/** The query as sent, each parameter's values as a string or list. */
function queryOf(query: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(query)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      out[name] = value;
    }
  }
  return out;
}

@ApiTags('e-Referral Service (FHIR STU3 and R4, as the NHS e-RS API)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID; a retried write with the same ID applies once' })
@ApiHeader({
  name: 'NHSD-eRS-Business-Function',
  required: true,
  description:
    'REFERRING_CLINICIAN, REFERRING_CLINICIAN_ADMIN, REFERRING_ADMIN, SERVICE_PROVIDER_CLINICIAN, SERVICE_PROVIDER_CLINICIAN_ADMIN',
})
@ApiHeader({
  name: 'NHSD-End-User-Organisation-ODS',
  required: true,
  description: 'The organisation the user acts for',
})
@ApiHeader(ON_BEHALF_OF_API_HEADER)
@Controller('referrals/FHIR')
export class EReferralsController {
  constructor(
    @Inject(E_REFERRALS_CLIENT) private readonly ers: EReferralsApi,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  // ---- Reference data and the caller ----

  @Get('STU3/CodeSystem/:codeSystemType')
  @FhirRoute(ERS_USERS)
  @ApiOperation({
    summary: 'A004 reference data: PRIORITY, SPECIALTY, CLINIC-TYPE, REFERRAL- and APPOINTMENT-CANCELLATION-REASON',
  })
  async codeSystem(
    @Param('codeSystemType') type: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.ers.codeSystem({ id: type, ...caller.acting }, caller.context));
  }

  @Get('R4/PractitionerRole')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: "A030 the caller's business functions at the organisation it acts for" })
  async businessFunctions(
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.businessFunctions({ query: queryOf(query) }, callContextOf(request)),
    );
  }

  @Get('R4/Practitioner')
  @FhirRoute(ERS_PROVIDERS)
  @ApiOperation({
    summary: 'A040 the provider clinicians a SERVICE_PROVIDER_CLINICIAN_ADMIN may act on behalf of (_query=onBehalfOf)',
  })
  @ApiResponse({ status: 400, description: 'REC_BAD_REQUEST: _query missing or not onBehalfOf' })
  @ApiResponse({ status: 403, description: 'FORBIDDEN: business function other than SERVICE_PROVIDER_CLINICIAN_ADMIN' })
  async practitionersOnBehalfOf(
    @Query() query: Record<string, unknown>,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.practitionersOnBehalfOf({ query: queryOf(query), ...caller.acting }, caller.context),
    );
  }

  // ---- Directory ----

  @Put('R4/HealthcareService/:id')
  @FhirRoute(ERS_PUBLISHERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({
    summary: 'Publish (create or replace) a healthcare service (provider admin); each publish is a new version',
  })
  @ApiResponse({ status: 200, description: 'The HealthcareService, ETag W/"version"' })
  async publishService(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const resource = resourceBody(body);
    if (resource['id'] !== id) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: 'HealthcareService.id must match the id in the path',
        status: 422,
      });
    }
    return sendFhir(this.settings, reply, await this.ers.publishService({ resource }, callContextOf(request)));
  }

  @Post('R4/Slot/$ers.publish')
  @HttpCode(200)
  @FhirRoute(ERS_PUBLISHERS, { maxBodyBytes: BODY_LIMITS.ersSlotsPublish })
  @ApiOperation({
    summary: 'Publish a Schedule and its Slots in bulk (a Bundle; up to 3,000 slots), once per X-Request-ID',
  })
  async publishSlots(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.publishSlots({ resource: resourceBody(body) }, callContextOf(request)),
    );
  }

  @Get('R4/HealthcareService/:id')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A033 a healthcare service; HEAD is A037, its current version (ETag) without the body' })
  async service(
    @Param('id') id: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.ers.getService({ id, ...caller.acting }, caller.context));
  }

  @Get('R4/HealthcareService/:id/_history/:version')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A version of a healthcare service, as published' })
  async serviceAtVersion(
    @Param('id') id: string,
    @Param('version') version: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.ers.getService({ id, version, ...caller.acting }, caller.context));
  }

  @Get('R4/HealthcareService')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A035 services by _id (up to 20)' })
  async services(
    @Query() query: Record<string, unknown>,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.listServices({ query: queryOf(query), ...caller.acting }, caller.context),
    );
  }

  @Post('STU3/HealthcareService/$ers.searchHealthcareServicesForPatient')
  @HttpCode(200)
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({
    summary: 'A010 services for a patient (priority, specialty, clinic type, postcode and distance, wait, age and sex)',
  })
  async search(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    return sendFhirDocument(
      this.settings,
      request,
      reply,
      await this.ers.searchServicesDocument({ resource: resourceBody(body), ...caller.acting }, caller.context),
    );
  }

  @Get('STU3/Slot')
  @FhirRoute(ERS_REFERRERS)
  @ApiOperation({ summary: 'A015 free slots of a service, a page at a time (_count, page)' })
  async slots(
    @Query() query: Record<string, unknown>,
    @ErsCaller() caller: ErsCaller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    return sendFhirDocument(
      this.settings,
      request,
      reply,
      await this.ers.searchSlotsDocument({ query: queryOf(query), ...caller.acting }, caller.context),
    );
  }

  // ---- Referrals ----

  @Post('STU3/ReferralRequest/$ers.createReferral')
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({ summary: 'A011 create a referral with a shortlist (at most 20 services): a new UBRN' })
  @ApiResponse({ status: 201, description: 'ReferralRequest, ETag W/"1", Location' })
  @ApiResponse({
    status: 422,
    description: 'TOO_MANY_ITEMS, DUPLICATE_SERVICE, REFERENCE_NOT_FOUND, PATIENT_ERROR, INVALID_CODE',
  })
  async create(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.createReferral({ resource: resourceBody(body), ...caller.acting }, caller.context),
      201,
    );
  }

  @Post('STU3/ReferralRequest/$ers.createReferralAndSendForTriage')
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({ summary: 'A021 create a referral and send it for triage to its one triage service' })
  async createForTriage(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.createReferralForTriage({ resource: resourceBody(body), ...caller.acting }, caller.context),
      201,
    );
  }

  @Post('STU3/ReferralRequest/$ers.fetchworklist')
  @HttpCode(200)
  @FhirRoute(ERS_PROVIDERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({
    summary: 'A008 a provider worklist (REFERRALS_FOR_REVIEW, AWAITING_BOOKING; priority and service filters)',
  })
  async worklist(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    // The List as e-referrals wrote it (some 6 MB for 5,000 referrals), passed on unparsed.
    return sendFhirDocument(
      this.settings,
      request,
      reply,
      await this.ers.worklist({ resource: resourceBody(body), ...caller.acting }, caller.context),
    );
  }

  @Get('STU3/ReferralRequest/:ubrn')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A005 a referral (ETag W/"version")' })
  async referral(
    @Param('ubrn') ubrn: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.ers.getReferral({ id: ubrn, ...caller.acting }, caller.context));
  }

  @Get('STU3/ReferralRequest/:ubrn/_history/:version')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A005 a version of a referral' })
  async referralVersion(
    @Param('ubrn') ubrn: string,
    @Param('version') version: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.getReferral({ id: ubrn, version, ...caller.acting }, caller.context),
    );
  }

  @Get('STU3/Task')
  @FhirRoute(ERS_USERS)
  @ApiOperation({
    summary: 'A029 the actions the caller may take now (focus=ReferralRequest/{ubrn}/_history/{version})',
  })
  async actions(
    @Query() query: Record<string, unknown>,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.availableActions({ query: queryOf(query), ...caller.acting }, caller.context),
    );
  }

  @Post('STU3/ReferralRequest/:ubrn/:operation')
  @HttpCode(200)
  @FhirRoute(ERS_USERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({
    summary:
      'A013 $ers.acceptReferral, A014 $ers.rejectReferral, A022 $ers.cancelAppointmentActionLater, A028 $ers.recordReviewOutcome, A031 $ers.changeShortlist, A032 $ers.changeShortlistAndSendForTriage, A036 $ers.cancelReferral (If-Match)',
  })
  @ApiResponse({ status: 409, description: 'RESOURCE_VERSION_MISMATCH: If-Match is not the current version' })
  @ApiResponse({ status: 412, description: 'PRECONDITION_FAILED: no If-Match' })
  @ApiResponse({ status: 422, description: 'INVALID_REQUEST_STATE, NO_RELATIONSHIP, INVALID_CODE' })
  @ApiResponse({ status: 423, description: 'REFERRAL_LOCKED: another write to this referral is in progress' })
  async change(
    @Param('ubrn') ubrn: string,
    @Param('operation') operation: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const { context } = caller;
    const base = { id: ubrn, ...caller.acting, ...ifMatchOf(ifMatch) };
    const withBody = (): typeof base & { resource: FhirResource } => ({ ...base, resource: resourceBody(body) });
    switch (operation) {
      case '$ers.acceptReferral':
        return sendFhir(this.settings, reply, await this.ers.acceptReferral(base, context));
      case '$ers.rejectReferral':
        return sendFhir(this.settings, reply, await this.ers.rejectReferral(withBody(), context));
      case '$ers.recordReviewOutcome':
        return sendFhir(this.settings, reply, await this.ers.recordReviewOutcome(withBody(), context));
      case '$ers.cancelAppointmentActionLater':
        return sendFhir(this.settings, reply, await this.ers.cancelAppointmentActionLater(withBody(), context));
      case '$ers.changeShortlist':
        return sendFhir(this.settings, reply, await this.ers.changeShortlist(withBody(), context));
      case '$ers.changeShortlistAndSendForTriage':
        return sendFhir(this.settings, reply, await this.ers.changeShortlistForTriage(withBody(), context));
      case '$ers.cancelReferral':
        return sendFhir(this.settings, reply, await this.ers.cancelReferral(withBody(), context));
      default:
        throw new PlatformError('REC_NOT_FOUND', 'Not found', { diagnostics: 'No such resource or operation' });
    }
  }

  // ---- Appointments ----

  @Post('STU3/Appointment')
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({ summary: 'A016 book a slot, defer to provider, or send for triage' })
  @ApiResponse({ status: 201, description: 'The Appointment, ETag, Location' })
  @ApiResponse({
    status: 422,
    description: 'SLOT_NOT_AVAILABLE, INAPPROPRIATE_SLOT, SLOTS_CURRENTLY_AVAILABLE, INVALID_REQUEST_STATE',
  })
  async book(
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const answer = await this.ers.createAppointmentDocument(
      {
        resource: resourceBody(body),
        ...caller.acting,
        ...ifMatchOf(ifMatch),
      },
      caller.context,
    );
    return sendFhirDocument(this.settings, request, reply, answer, 201);
  }

  @Put('STU3/Appointment/:id')
  @FhirRoute(ERS_USERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({
    summary: 'A034 cancel an appointment (status cancelled, with a reason; If-Match the appointment version)',
  })
  async cancelAppointment(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.cancelAppointment(
        {
          id,
          resource: resourceBody(body),
          ...caller.acting,
          ...ifMatchOf(ifMatch),
        },
        caller.context,
      ),
    );
  }

  @Get('STU3/Appointment/:id')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A038 an appointment' })
  async appointment(
    @Param('id') id: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.ers.getAppointment({ id, ...caller.acting }, caller.context));
  }

  @Get('STU3/Appointment/:id/_history/:version')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A038 a version of an appointment' })
  async appointmentVersion(
    @Param('id') id: string,
    @Param('version') version: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.getAppointment({ id, version, ...caller.acting }, caller.context),
    );
  }

  @Get('R4/ServiceRequest')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A041 service requests by UBRN (identifier)' })
  async serviceRequests(
    @Query() query: Record<string, unknown>,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(
      this.settings,
      reply,
      await this.ers.searchServiceRequests({ query: queryOf(query), ...caller.acting }, caller.context),
    );
  }
}
