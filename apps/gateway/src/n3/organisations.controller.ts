import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { NatsConnection } from 'nats';
import {
  ORGANISATION_ROLE_NAMES,
  storeExtract,
  type ImportReport,
  type N3Api,
  type Organisation,
  type OrganisationRole,
  type ListSitesRequest,
  type Page,
  type Paged,
  type Site,
  type SearchOrganisationsRequest,
  type UpsertOrganisationRequest,
  type CreateSiteRequest,
} from '@platform/contracts-n3';
import { PLATFORM_ROLES } from '@platform/shared-auth';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute, BODY_LIMITS } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';
import { GATEWAY_NATS, N3_CLIENT, objectBody, REGISTRY_READERS, REGISTRY_WRITERS } from './n3-body';

@ApiTags('N3 connection registry: organisations')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('n3/organisations')
export class OrganisationsController {
  constructor(
    @Inject(N3_CLIENT) private readonly n3: N3Api,
    @Inject(GATEWAY_NATS) private readonly nats: NatsConnection,
  ) {}

  @Get()
  @ApiRoute(PLATFORM_ROLES)
  @ApiOperation({ summary: 'Search organisations by name words, postcode prefix, role or status (every role)' })
  search(@Query() query: Record<string, string>, @Req() request: FastifyRequest): Promise<Page<Organisation>> {
    return this.n3.searchOrganisations(query as unknown as SearchOrganisationsRequest, callContextOf(request));
  }

  @Get(':odsCode')
  @ApiRoute(PLATFORM_ROLES)
  @ApiOperation({ summary: 'An organisation by ODS code, with its role (every role)' })
  @ApiResponse({ status: 400, description: 'INVALID_VALUE: not an ODS code' })
  @ApiResponse({ status: 404, description: 'ORGANISATION_NOT_FOUND' })
  get(@Param('odsCode') odsCode: string, @Req() request: FastifyRequest): Promise<Organisation> {
    return this.n3.getOrganisation({ odsCode }, callContextOf(request));
  }

  @Put(':odsCode')
  @ApiRoute(REGISTRY_WRITERS, { write: true, maxBodyBytes: BODY_LIMITS.registryWrite })
  @ApiOperation({ summary: "Create or replace an organisation's record (registry-admin)" })
  upsert(
    @Param('odsCode') odsCode: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<Organisation> {
    const organisation = {
      ...objectBody(body),
      odsCode: odsCode.toUpperCase(),
    } as unknown as UpsertOrganisationRequest;
    return this.n3.upsertOrganisation(organisation, callContextOf(request));
  }

  @Post('import')
  @HttpCode(200)
  @ApiRoute(REGISTRY_WRITERS, { write: true })
  @ApiOperation({
    summary: 'Import an ODS extract (text/csv, the ODS standard 27-column layout) as organisations of one role',
    description:
      'All or nothing: any bad row answers 422 INVALID_IMPORT listing every rejected line, and nothing is stored, unless skipInvalid=true.',
  })
  @ApiConsumes('text/csv')
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: 'The extract, Content-Type text/csv' })
  @ApiResponse({ status: 200, description: 'The import report: rows, inserted, updated, rejected lines' })
  @ApiResponse({ status: 422, description: 'INVALID_IMPORT, with `rejected`: [{line, odsCode, reason}]' })
  async import(
    @Query('role') role: string | undefined,
    @Query('skipInvalid') skipInvalid: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<ImportReport> {
    // The extract arrives as a stream (edge-checks csvBodyStream: limited, UTF-8, no NUL) and is stored as it comes.
    if (!(body instanceof Readable)) {
      throw new PlatformError('REC_UNSUPPORTED_MEDIA_TYPE', undefined, {
        diagnostics: 'Send the extract as the request body with Content-Type: text/csv',
        status: 415,
      });
    }
    if (!role || !(ORGANISATION_ROLE_NAMES as string[]).includes(role)) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `role: give the role of the extract's organisations, one of ${ORGANISATION_ROLE_NAMES.join(', ')}`,
        details: { errors: [{ field: 'role', message: 'required' }] },
      });
    }
    if (skipInvalid !== undefined && skipInvalid !== 'true' && skipInvalid !== 'false') {
      throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'skipInvalid: true or false' });
    }
    const context = callContextOf(request);
    const objectName = `import-${context.requestId}-${randomUUID()}`;
    await storeExtract(this.nats, objectName, body);
    return this.n3.importOrganisations(
      { objectName, role: role as OrganisationRole, skipInvalid: skipInvalid === 'true' },
      context,
    );
  }

  @Get(':odsCode/sites')
  @ApiRoute(REGISTRY_READERS)
  @ApiOperation({
    summary: "An organisation's sites (registry-admin, ops)",
    description: '?limit= (1 to 200, default 50) and ?offset=: a full page means there may be more.',
  })
  sites(
    @Param('odsCode') odsCode: string,
    @Query() query: Record<string, string>,
    @Req() request: FastifyRequest,
  ): Promise<Site[]> {
    return this.n3.listSites({ ...query, odsCode } as unknown as Paged<ListSitesRequest>, callContextOf(request));
  }

  @Post(':odsCode/sites')
  @ApiRoute(REGISTRY_WRITERS, { write: true, maxBodyBytes: BODY_LIMITS.registryWrite })
  @ApiOperation({ summary: 'Add a site to an organisation (registry-admin)' })
  createSite(@Param('odsCode') odsCode: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<Site> {
    const site = { ...objectBody(body), odsCode: odsCode.toUpperCase() } as unknown as CreateSiteRequest;
    return this.n3.createSite(site, callContextOf(request));
  }
}
