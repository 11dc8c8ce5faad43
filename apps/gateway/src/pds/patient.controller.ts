import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PdsApi } from '@platform/contracts-pds';
import { FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { searchset, type SearchsetBundle } from '../http/fhir-bundle';
import { FHIR_JSON } from '../http/error-response';
import { callContextOf } from '../http/call-context';

export const PDS_CLIENT = Symbol('PDS_CLIENT');

/** Who may read a patient record: the care roles, not network administrators or patients (yet). */
export const READ_ROLES = ['clinician', 'practice-admin', 'pharmacist', 'provider-clinician'] as const;

@ApiTags('Personal Demographics Service (FHIR R4)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID; echoed; the idempotency key for writes' })
@ApiHeader({ name: 'X-Correlation-ID', required: false, description: 'Echoed' })
@ApiHeader({ name: 'NHSD-End-User-Organisation-ODS', required: false, description: 'The ODS code the user acts for' })
@Controller('personal-demographics/FHIR/R4')
export class PatientController {
  constructor(
    @Inject(PDS_CLIENT) private readonly pds: PdsApi,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Get('Patient/:id')
  @FhirRoute(READ_ROLES, { sandbox: true })
  @ApiOperation({ summary: 'Read a patient by NHS number', description: `Roles: ${READ_ROLES.join(', ')}` })
  @ApiParam({ name: 'id', description: 'NHS number (10 digits, modulus 11 check digit)', example: '9000000009' })
  @ApiResponse({ status: 200, description: 'The Patient, with ETag W/"<versionId>"' })
  @ApiResponse({ status: 400, description: 'INVALID_RESOURCE_ID, MISSING_VALUE / INVALID_VALUE (X-Request-ID)' })
  @ApiResponse({ status: 401, description: 'ACCESS_DENIED: missing or invalid access token' })
  @ApiResponse({ status: 403, description: 'ACCESS_DENIED: role or organisation not allowed' })
  @ApiResponse({ status: 404, description: 'RESOURCE_NOT_FOUND or INVALIDATED_RESOURCE' })
  async read(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { json, versionId } = await this.pds.getPatientDocument({ nhsNumber: id }, callContextOf(request));
    void reply.header('ETag', `W/"${versionId}"`).type(FHIR_JSON);
    return json;
  }

  @Get('Patient/:id/RelatedPerson')
  @FhirRoute(READ_ROLES, { sandbox: true })
  @ApiOperation({ summary: "A patient's related people", description: `Roles: ${READ_ROLES.join(', ')}` })
  @ApiParam({ name: 'id', description: 'NHS number (10 digits, modulus 11 check digit)', example: '9000000009' })
  @ApiResponse({ status: 200, description: 'A searchset Bundle of RelatedPerson (empty for a restricted patient)' })
  @ApiResponse({ status: 400, description: 'INVALID_RESOURCE_ID' })
  @ApiResponse({ status: 404, description: 'RESOURCE_NOT_FOUND or INVALIDATED_RESOURCE' })
  async relatedPersons(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SearchsetBundle> {
    const { nhsNumber, relatedPersons } = await this.pds.listRelatedPersons({ nhsNumber: id }, callContextOf(request));
    const base = `${this.settings.publicUrl}/personal-demographics/FHIR/R4/Patient/${nhsNumber}`;
    void reply.type(FHIR_JSON);
    return searchset(
      relatedPersons.map((person) => ({ fullUrl: `${base}/RelatedPerson/${person.id}`, resource: person })),
    );
  }
}
