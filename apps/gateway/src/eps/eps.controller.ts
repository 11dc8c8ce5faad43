import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { messageEventOf, type EpsApi, type FhirResource, type PrescriptionTracking } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute, BODY_LIMITS, FhirRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';
import { FHIR_JSON } from '../http/error-response';

export const EPS_CLIENT = Symbol('EPS_CLIENT');

/** Prescribers sign and send; pharmacies (people or their systems) release. */
const PRESCRIBERS = ['clinician'] as const;
const DISPENSERS = ['pharmacist'] as const;

function resourceBody(body: unknown, type: string): FhirResource {
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    (body as FhirResource).resourceType !== type
  ) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: `The request body must be a FHIR ${type}` });
  }
  return body as FhirResource;
}

@ApiTags('Electronic Prescription Service (FHIR R4)')
@ApiBearerAuth()
@ApiHeader({
  name: 'X-Request-ID',
  required: true,
  description: 'UUID; a retry with the same ID returns the first answer',
})
@ApiHeader({
  name: 'NHSD-End-User-Organisation-ODS',
  required: false,
  description: 'The prescriber or pharmacy the user acts for',
})
@Controller()
export class EpsController {
  constructor(@Inject(EPS_CLIENT) private readonly eps: EpsApi) {}

  @Post('fhir-prescribing/FHIR/R4/$prepare')
  @HttpCode(200)
  @FhirRoute(PRESCRIBERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary: '$prepare: the digest a prescriber signs for a prescription-order Bundle',
    description: 'Roles: clinician',
  })
  @ApiBody({ schema: { type: 'object', description: 'FHIR Bundle (message, prescription-order), unsigned' } })
  @ApiResponse({ status: 200, description: 'Parameters: digest (base64 SignedInfo), timestamp, algorithm RS256' })
  @ApiResponse({
    status: 400,
    description: 'INVALID_VALUE, MISSING_FIELD, FAILURE_TO_PROCESS_MESSAGE, PATIENT_DECEASED',
  })
  async prepare(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const parameters = await this.eps.prepare({ bundle: resourceBody(body, 'Bundle') }, callContextOf(request));
    void reply.type(FHIR_JSON);
    return parameters;
  }

  @Post('fhir-prescribing/FHIR/R4/$process-message')
  @HttpCode(200)
  @FhirRoute(PRESCRIBERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary:
      '$process-message: send a signed prescription-order Bundle, or cancel items with prescription-order-update',
    description: 'Roles: clinician. The prescription ID is the idempotency key (DUPLICATE_PRESCRIPTION_ID).',
  })
  @ApiBody({
    schema: { type: 'object', description: 'FHIR Bundle (message, prescription-order) with Provenance.signature' },
  })
  @ApiResponse({ status: 200, description: 'OperationOutcome, informational: the prescription is To Be Dispensed' })
  @ApiResponse({
    status: 400,
    description:
      'INVALID_SIGNATURE, UNKNOWN_PRESCRIBER_KEY, DUPLICATE_PRESCRIPTION_ID, PATIENT_DECEASED, INVALID_VALUE',
  })
  async processMessage(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const bundle = resourceBody(body, 'Bundle');
    const event = messageEventOf(bundle);
    if (event === 'prescription-order-update') {
      const response = await this.eps.cancel({ bundle }, callContextOf(request));
      void reply.type(FHIR_JSON);
      return response;
    }
    if (event !== undefined && event !== 'prescription-order') {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `The prescribing API processes prescription-order and prescription-order-update messages, not ${event.slice(0, 40)} (dispense notifications go to /fhir-dispensing)`,
        expression: ['MessageHeader.eventCoding'],
      });
    }
    const created = await this.eps.createPrescription({ bundle }, callContextOf(request));
    void reply.type(FHIR_JSON);
    return created.outcome;
  }

  @Post('fhir-dispensing/FHIR/R4/Task/$release')
  @HttpCode(200)
  @FhirRoute(DISPENSERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary: 'Task/$release: the nominated prescriptions (25 per call) or one by its short-form ID',
    description: "Roles: pharmacist (a person or the pharmacy's system). The owner must be the organisation acted for.",
  })
  @ApiBody({
    schema: {
      type: 'object',
      description: 'FHIR Parameters: owner, status accepted, agent, optional group-identifier',
    },
  })
  @ApiResponse({
    status: 200,
    description:
      'Parameters: passedPrescriptions and failedPrescriptions (searchset Bundles); NO_MORE_PRESCRIPTIONS when none are left',
  })
  @ApiResponse({
    status: 400,
    description: 'PRESCRIPTION_WITH_ANOTHER_DISPENSER (with the holder), FAILURE_TO_PROCESS_MESSAGE',
  })
  async release(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const answer = await this.eps.release({ parameters: resourceBody(body, 'Parameters') }, callContextOf(request));
    void reply.type(FHIR_JSON);
    return answer;
  }

  @Post('fhir-dispensing/FHIR/R4/Task')
  @HttpCode(200)
  @FhirRoute(DISPENSERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary:
      'Task: return a released prescription (status rejected, reasons 0001-0008) or withdraw the latest dispense notification (in-progress + abort)',
    description: 'Roles: pharmacist, for the pharmacy holding the prescription.',
  })
  @ApiResponse({
    status: 200,
    description:
      'OperationOutcome, informational (returned: To Be Dispensed again; withdrawn: back to the status before)',
  })
  @ApiResponse({ status: 400, description: 'INVALID_VALUE, PRESCRIPTION_WITH_ANOTHER_DISPENSER' })
  async task(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const task = resourceBody(body, 'Task');
    const context = callContextOf(request);
    const outcome =
      task['status'] === 'in-progress'
        ? await this.eps.withdraw({ resource: task }, context)
        : await this.eps.returnPrescription({ task }, context);
    void reply.type(FHIR_JSON);
    return outcome;
  }

  @Post('fhir-dispensing/FHIR/R4/$process-message')
  @HttpCode(200)
  @FhirRoute(DISPENSERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary:
      '$process-message: a dispense notification (0003 partly, 0006 dispensed, 0007 not dispensed), or an amendment of the latest (replacementOf)',
    description: 'Roles: pharmacist, for the pharmacy holding the prescription.',
  })
  @ApiResponse({ status: 200, description: 'OperationOutcome, informational' })
  async dispense(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const outcome = await this.eps.dispense({ bundle: resourceBody(body, 'Bundle') }, callContextOf(request));
    void reply.type(FHIR_JSON);
    return outcome;
  }

  @Post('fhir-dispensing/FHIR/R4/Claim')
  @HttpCode(200)
  @FhirRoute(DISPENSERS, { maxBodyBytes: BODY_LIMITS.epsMessage })
  @ApiOperation({
    summary: 'Claim for a dispensed prescription (0008 Claimed); every item needs an endorsement',
    description: 'Roles: pharmacist',
  })
  @ApiResponse({ status: 200, description: 'OperationOutcome, informational' })
  async claim(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const outcome = await this.eps.claim({ resource: resourceBody(body, 'Claim') }, callContextOf(request));
    void reply.type(FHIR_JSON);
    return outcome;
  }

  @Get('eps/prescriptions/:shortFormId')
  @ApiRoute([...PRESCRIBERS, ...DISPENSERS, 'patient'])
  @ApiOperation({
    summary: "A prescription's status and history: for its prescriber's organisation, its pharmacy and its patient",
  })
  track(@Param('shortFormId') shortFormId: string, @Req() request: FastifyRequest): Promise<PrescriptionTracking> {
    return this.eps.getPrescription({ shortFormId }, callContextOf(request));
  }
}
