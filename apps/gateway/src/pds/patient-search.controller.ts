import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_SEARCH_RESULTS, type PdsApi } from '@platform/contracts-pds';
import { operationOutcome, type OperationOutcome } from '@platform/shared-errors';
import { FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { callContextOf } from '../http/call-context';
import { FHIR_JSON } from '../http/error-response';
import { searchset, type SearchsetBundle } from '../http/fhir-bundle';
import { PDS_CLIENT, READ_ROLES } from './patient.controller';
import { singleMatchQuery } from './access-modes';

const PARAMETERS: { name: string; description: string; example?: string }[] = [
  { name: 'family', description: 'Family name; `*` after at least two characters is a wildcard', example: 'Smith' },
  { name: 'given', description: 'Given name; repeat for more given names, in order', example: 'Jane' },
  { name: 'gender', description: 'male, female, other or unknown' },
  {
    name: 'birthdate',
    description: 'Date of birth, [eq|ge|le]YYYY-MM-DD; a range is two parameters (ge and le)',
    example: 'eq2010-10-22',
  },
  { name: 'death-date', description: 'Date of death, as birthdate' },
  { name: 'address-postalcode', description: 'Postcode (spaces ignored); `*` allowed after two characters' },
  { name: 'general-practitioner', description: 'ODS code of the registered GP practice, exact' },
  { name: 'email', description: 'E-mail address, exact, any case' },
  { name: 'phone', description: 'Telephone number, exact' },
  { name: '_fuzzy-match', description: 'true: phonetic names (Smith/Smythe), transposed names, history; no wildcards' },
  { name: '_exact-match', description: 'true: only exact matches (score 1)' },
  { name: '_history', description: 'true: previous names and addresses match too' },
  {
    name: '_max-results',
    description: `1 to ${MAX_SEARCH_RESULTS} (default ${MAX_SEARCH_RESULTS}); more matches answer TOO_MANY_MATCHES`,
  },
];

const NO_EXAMPLE: OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [
    {
      severity: 'warning',
      code: 'not-supported',
      diagnostics: 'The sandbox has no example response for this combination of search parameters',
    },
  ],
};

function searchParameters(): MethodDecorator {
  const decorators = PARAMETERS.map((parameter) =>
    ApiQuery({ name: parameter.name, required: false, description: parameter.description, example: parameter.example }),
  );
  return (target, key, descriptor) => {
    for (const decorate of decorators) decorate(target, key, descriptor);
  };
}

@ApiTags('Personal Demographics Service (FHIR R4)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID; echoed' })
@ApiHeader({ name: 'X-Correlation-ID', required: false, description: 'Echoed' })
@ApiHeader({ name: 'NHSD-End-User-Organisation-ODS', required: false, description: 'The ODS code the user acts for' })
@Controller('personal-demographics/FHIR/R4')
export class PatientSearchController {
  constructor(
    @Inject(PDS_CLIENT) private readonly pds: PdsApi,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Get('Patient')
  @FhirRoute(READ_ROLES, { sandbox: true })
  @ApiOperation({
    summary: 'Search for patients',
    description: `At least a family name and a date of birth (or, fuzzy, the NHS's other combinations). Every patient returned is audited. Roles: ${READ_ROLES.join(', ')}`,
  })
  @searchParameters()
  @ApiResponse({
    status: 200,
    description:
      'A searchset Bundle of Patient, best match first, each with search.score; or an informational OperationOutcome TOO_MANY_MATCHES',
  })
  @ApiResponse({
    status: 400,
    description:
      'UNSUPPORTED_SERVICE (no parameters), ADDITIONAL_PROPERTIES, INVALID_VALUE, MISSING_VALUE, INVALID_SEARCH_DATA',
  })
  @ApiResponse({ status: 401, description: 'ACCESS_DENIED: missing or invalid access token' })
  @ApiResponse({ status: 403, description: 'ACCESS_DENIED: role or organisation not allowed' })
  async search(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SearchsetBundle | OperationOutcome> {
    const separator = request.url.indexOf('?');
    const query = singleMatchQuery(request, separator === -1 ? '' : request.url.slice(separator + 1));
    const { matches, tooManyMatches, noExample } = await this.pds.searchPatients(
      { query, ...(this.settings.sandbox ? { sandbox: true } : {}) },
      callContextOf(request),
    );
    void reply.type(FHIR_JSON);
    // Spine answers "too many matches" with HTTP 200 and an informational OperationOutcome.
    if (tooManyMatches) return operationOutcome('TOO_MANY_MATCHES');
    // Sandbox mode, as the NHS sandbox: a valid search without an example answer is HTTP 200 and a warning.
    if (noExample === true) return NO_EXAMPLE;
    const base = `${this.settings.publicUrl}/personal-demographics/FHIR/R4/Patient`;
    return searchset(
      matches.map(({ patient, score }) => ({ fullUrl: `${base}/${patient.id}`, search: { score }, resource: patient })),
    );
  }
}
