import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CoverageReply, PdsApi } from '@platform/contracts-pds';
import { FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { searchset, type SearchsetBundle } from '../http/fhir-bundle';
import { FHIR_JSON } from '../http/error-response';
import { callContextOf } from '../http/call-context';
import { refuseApplication } from './access-modes';

export const PDS_CLIENT = Symbol('PDS_CLIENT');

/** Who may read and search patient records: the care roles, not network administrators. */
export const READ_ROLES = ['clinician', 'practice-admin', 'pharmacist', 'provider-clinician'] as const;
/** ... and a patient (patient access), who may read only their own record (pds checks whose it is). */
export const OWN_RECORD_ROLES = [...READ_ROLES, 'patient'] as const;
/**
 * EHIC details (GET and POST /Coverage): patient access only, as the specification says ("You can only use
 * this endpoint if you are using patient access mode"); a patient's own card (pds checks the mode and whose).
 */
export const COVERAGE_ROLES = ['patient'] as const;

/** The Coverage searchset Bundle of the specification (components/schemas/CoverageSearch.yaml). */
export function coverageBundle(publicUrl: string, reply: CoverageReply): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    total: reply.coverage ? 1 : 0,
    meta: { versionId: String(reply.versionId) },
    entry: reply.coverage
      ? [
          {
            fullUrl: `${publicUrl}/personal-demographics/FHIR/R4/Coverage?subscriber:identifier=${reply.nhsNumber}`,
            resource: reply.coverage,
          },
        ]
      : [],
  };
}

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
  @FhirRoute(OWN_RECORD_ROLES, { sandbox: true })
  @ApiOperation({
    summary: 'Read a patient by NHS number',
    description: `Roles: ${OWN_RECORD_ROLES.join(', ')} (a patient: their own record only)`,
  })
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
  @FhirRoute(OWN_RECORD_ROLES, { sandbox: true })
  @ApiOperation({
    summary: "A patient's related people",
    description: `Roles: ${OWN_RECORD_ROLES.join(', ')} (a patient: their own only)`,
  })
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

  @Get('Coverage')
  @FhirRoute(COVERAGE_ROLES, { sandbox: true })
  @ApiOperation({
    summary: "A patient's European Health Insurance Card (EHIC) details",
    description: `Query: subscriber:identifier=<NHS number>, nothing else. Roles: ${COVERAGE_ROLES.join(', ')} (patient access only: their own card)`,
  })
  @ApiResponse({
    status: 200,
    description: 'A searchset Bundle of 0 or 1 Coverage, meta.versionId and ETag the patient version',
  })
  @ApiResponse({ status: 400, description: 'INVALID_SEARCH_DATA, MISSING_VALUE, INVALID_RESOURCE_ID' })
  @ApiResponse({ status: 403, description: "ACCESS_DENIED: not patient access, or not the patient's own card" })
  @ApiResponse({ status: 404, description: 'RESOURCE_NOT_FOUND or INVALIDATED_RESOURCE' })
  async coverage(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    refuseApplication(request, 'read EHIC details');
    const separator = request.url.indexOf('?');
    const query = separator === -1 ? '' : request.url.slice(separator + 1);
    const found = await this.pds.getCoverage(
      { query, ...(this.settings.sandbox ? { sandbox: true } : {}) },
      callContextOf(request),
    );
    void reply.header('ETag', `W/"${found.versionId}"`).type(FHIR_JSON);
    return coverageBundle(this.settings.publicUrl, found);
  }
}
