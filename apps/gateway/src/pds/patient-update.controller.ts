import { Body, Controller, Headers, Inject, Param, Patch, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PatchOperation, PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { BODY_LIMITS, FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { callContextOf } from '../http/call-context';
import { FHIR_JSON } from '../http/error-response';
import { COVERAGE_ROLES, coverageBundle, PDS_CLIENT } from './patient.controller';
import { refuseApplication } from './access-modes';

/** Who may register and change demographics: the GP practice's clinicians and administrators. */
const WRITE_ROLES = ['clinician', 'practice-admin'] as const;
/**
 * Who may update a record: the same, and a patient (patient access: their own record, and only address,
 * emergency contact, mobile and email telecom, pharmacy, place of birth, communication; pds checks).
 */
const UPDATE_ROLES = [...WRITE_ROLES, 'patient'] as const;

function patchesOf(body: unknown): PatchOperation[] {
  const patches = (body as { patches?: unknown } | null)?.patches;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(patches)) {
    throw new PlatformError('INVALID_UPDATE', undefined, {
      diagnostics: 'Invalid update with error - the body must be {"patches": [JSON Patch operations]}',
    });
  }
  return patches as PatchOperation[];
}

/** A PATCH is a JSON Patch document: `Content-Type: application/json-patch+json`, as the NHS asks (400 otherwise). */
function checkPatchContentType(request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json-patch+json') {
    throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
      diagnostics: "Invalid value - Content-Type must be 'application/json-patch+json' for a PATCH",
    });
  }
}

@ApiTags('Personal Demographics Service (FHIR R4)')
@ApiBearerAuth()
@ApiHeader({
  name: 'X-Request-ID',
  required: true,
  description: 'UUID; a retry with the same ID returns the first answer',
})
@Controller('personal-demographics/FHIR/R4')
export class PatientUpdateController {
  constructor(
    @Inject(PDS_CLIENT) private readonly pds: PdsApi,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Post('Patient')
  @FhirRoute(WRITE_ROLES, { sandbox: true, maxBodyBytes: BODY_LIMITS.pdsWrite })
  @ApiOperation({
    summary: 'Allocate an NHS number to a new patient',
    description: `Body: a FHIR Patient without id. Roles: ${WRITE_ROLES.join(', ')}`,
  })
  @ApiBody({ schema: { type: 'object', description: 'FHIR R4 Patient (UK Core) without id, meta or identifier' } })
  @ApiResponse({ status: 201, description: 'The new Patient with its NHS number, ETag W/"1" and Location' })
  @ApiResponse({
    status: 200,
    description: 'OperationOutcome SINGLE_MATCH or MULTIPLE_MATCHES: PDS already holds them',
  })
  @ApiResponse({ status: 400, description: 'INVALID_CREATE' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    refuseApplication(request, 'create a patient');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new PlatformError('INVALID_CREATE', undefined, {
        diagnostics: 'Invalid create with error - the body must be a FHIR Patient',
      });
    }
    const created = await this.pds.createPatient(
      { patient: body as Record<string, unknown>, ...(this.settings.sandbox ? { sandbox: true } : {}) },
      callContextOf(request),
    );
    void reply
      .status(201)
      .header('ETag', `W/"${created.versionId}"`)
      .header('Location', `${this.settings.publicUrl}/personal-demographics/FHIR/R4/Patient/${created.nhsNumber}`)
      .type(FHIR_JSON);
    return created.patientJson;
  }

  @Patch('Patient/:id')
  @FhirRoute(UPDATE_ROLES, { sandbox: true, maxBodyBytes: BODY_LIMITS.pdsWrite })
  @ApiOperation({
    summary: 'Update a patient with JSON Patch',
    description: `Body {"patches": [RFC 6902 operations]}, all or nothing. Roles: ${UPDATE_ROLES.join(', ')} (a patient: their own record, only address, emergency contact, mobile and email telecom, pharmacy, place of birth and communication language and interpreter)`,
  })
  @ApiParam({ name: 'id', description: 'NHS number', example: '9000000009' })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The ETag of the version being changed, W/"<n>"' })
  @ApiBody({ schema: { type: 'object', properties: { patches: { type: 'array', items: { type: 'object' } } } } })
  @ApiResponse({ status: 200, description: 'The updated Patient with ETag W/"<n+1>"' })
  @ApiResponse({ status: 400, description: 'INVALID_UPDATE, INVALID_RESOURCE_ID' })
  @ApiResponse({
    status: 403,
    description:
      "FORBIDDEN_UPDATE (identity fields; a field patient access may not update) or ACCESS_DENIED (not the patient's own record, application-restricted access)",
  })
  @ApiResponse({ status: 409, description: 'RESOURCE_VERSION_MISMATCH: If-Match is not the current version' })
  @ApiResponse({ status: 412, description: 'PRECONDITION_FAILED: no If-Match' })
  async update(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    refuseApplication(request, 'update a patient');
    checkPatchContentType(request);
    const patches = patchesOf(body);
    const { json, versionId } = await this.pds.updatePatient(
      { nhsNumber: id, patches, ...(ifMatch ? { ifMatch } : {}), ...(this.settings.sandbox ? { sandbox: true } : {}) },
      callContextOf(request),
    );
    void reply.header('ETag', `W/"${versionId}"`).type(FHIR_JSON);
    return json;
  }

  @Post('Coverage')
  @FhirRoute(COVERAGE_ROLES, { sandbox: true, maxBodyBytes: BODY_LIMITS.pdsWrite })
  @ApiOperation({
    summary: "Add or replace a patient's European Health Insurance Card (EHIC) details",
    description: `Body: a FHIR Coverage (every EHIC field); If-Match: the patient's version. Roles: ${COVERAGE_ROLES.join(', ')} (patient access only: their own card)`,
  })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The patient version from GET /Coverage, W/"<n>"' })
  @ApiResponse({ status: 201, description: 'A searchset Bundle with the Coverage, ETag the next patient version' })
  @ApiResponse({
    status: 400,
    description:
      'INVALID_UPDATE (malformed body), MISSING_VALUE, INVALID_VALUE, INVALID_RESOURCE_ID, TOO_FEW_VALUES_SUBMITTED, TOO_MANY_VALUES_SUBMITTED',
  })
  @ApiResponse({ status: 403, description: "ACCESS_DENIED: not patient access, or not the patient's own card" })
  @ApiResponse({ status: 404, description: 'RESOURCE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'RESOURCE_VERSION_MISMATCH' })
  @ApiResponse({ status: 412, description: 'PRECONDITION_FAILED: no If-Match' })
  async updateCoverage(
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    refuseApplication(request, 'update EHIC details');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new PlatformError('INVALID_UPDATE', undefined, {
        diagnostics: 'Invalid update with error - the body must be a FHIR Coverage',
      });
    }
    const updated = await this.pds.updateCoverage(
      {
        coverage: body as Record<string, unknown>,
        ...(ifMatch ? { ifMatch } : {}),
        ...(this.settings.sandbox ? { sandbox: true } : {}),
      },
      callContextOf(request),
    );
    void reply.status(201).header('ETag', `W/"${updated.versionId}"`).type(FHIR_JSON);
    return coverageBundle(this.settings.publicUrl, updated);
  }
}
