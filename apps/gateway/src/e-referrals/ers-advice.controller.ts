import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ERS_PROVIDERS, ERS_REFERRERS, ERS_USERS, type AdviceClient, type FhirResource } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import { BODY_LIMITS, FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { ErsCaller, ifMatchOf } from './ers-call';
import { resourceBody, sendFhir, ON_BEHALF_OF_API_HEADER } from './ers-http';

export const ADVICE_CLIENT = Symbol('ADVICE_CLIENT');
/**
 * The A&G request an A027 body names and the version it names: the NHS's parameter `createFrom`, a reference
 * 'CommunicationRequest/{ubrn}[/_history/{version}]' (absent: 422 MISSING_VALUE; malformed: 422 INVALID_VALUE).
 * e-referrals checks the whole body again.
 */
function communicationRequestOf(resource: FhirResource): { ubrn: string; version?: string } {
  const parameters = Array.isArray(resource['parameter'])
    ? (resource['parameter'] as { name?: unknown; valueReference?: { reference?: unknown } }[])
    : [];
  const createFrom = parameters.find((item) => item?.name === 'createFrom');
  if (!createFrom) {
    throw new PlatformError('MISSING_VALUE', undefined, {
      diagnostics: 'parameter createFrom is required',
      status: 422,
    });
  }
  const reference = createFrom.valueReference?.reference;
  const match =
    typeof reference === 'string'
      ? /^CommunicationRequest\/([0-9]{12})(?:\/_history\/([0-9]{1,9}))?$/.exec(reference)
      : null;
  const ubrn = match?.[1];
  if (!match || !ubrn) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: "createFrom must reference 'CommunicationRequest/{ubrn}/_history/{version}'",
      status: 422,
    });
  }
  return match[2] === undefined ? { ubrn } : { ubrn, version: match[2] };
}

/** Advice and Guidance, as the NHS e-RS API: A044, A023, A024, A025, A026, A027. */
@ApiTags('e-Referral Service (FHIR STU3 and R4, as the NHS e-RS API)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID; a retried write with the same ID applies once' })
@ApiHeader({
  name: 'NHSD-eRS-Business-Function',
  required: true,
  description: 'The business function the user acts in',
})
@ApiHeader(ON_BEHALF_OF_API_HEADER)
@Controller('referrals/FHIR')
export class ErsAdviceController {
  constructor(
    @Inject(ADVICE_CLIENT) private readonly advice: AdviceClient,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Post('STU3/CommunicationRequest/$ers.createAdviceAndGuidance')
  @HttpCode(201)
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({ summary: 'A044 create an advice and guidance request to exactly one service' })
  async create(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const answer = await this.advice.create({ resource: resourceBody(body), ...caller.acting }, caller.context);
    return sendFhir(this.settings, reply, answer, 201);
  }

  @Post('STU3/CommunicationRequest/$ers.fetchworklist')
  @HttpCode(200)
  @FhirRoute(ERS_PROVIDERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiOperation({ summary: "A023 the provider's advice and guidance requests awaiting a response" })
  async worklist(
    @Body() body: unknown,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const resource = body === undefined ? { resourceType: 'Parameters' } : resourceBody(body);
    return sendFhir(this.settings, reply, await this.advice.worklist({ resource, ...caller.acting }, caller.context));
  }

  @Get('STU3/CommunicationRequest/:ubrn')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A024 an advice and guidance request' })
  async get(
    @Param('ubrn') ubrn: string,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    return sendFhir(this.settings, reply, await this.advice.get({ id: ubrn, ...caller.acting }, caller.context));
  }

  @Get('STU3/Communication')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A025 the conversation: ?based-on=CommunicationRequest/{ubrn}' })
  async conversation(
    @Query('based-on') basedOn: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    // As the NHS examples ask: 'CommunicationRequest/{ubrn}/_history/{version}' (the conversation as it is now).
    const ubrn =
      typeof basedOn === 'string'
        ? /^CommunicationRequest\/([0-9]{12})(?:\/_history\/[0-9]{1,9})?$/.exec(basedOn)?.[1]
        : undefined;
    if (!ubrn) {
      throw new PlatformError('MISSING_VALUE', undefined, {
        diagnostics: "based-on must be 'CommunicationRequest/{ubrn}[/_history/{version}]'",
        status: 422,
      });
    }
    return sendFhir(
      this.settings,
      reply,
      await this.advice.conversation({ id: ubrn, ...caller.acting }, caller.context),
    );
  }

  @Post('STU3/CommunicationRequest/:ubrn/$ers.sendCommunicationToRequester')
  @HttpCode(200)
  @FhirRoute(ERS_PROVIDERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiHeader({ name: 'If-Match', required: true, description: 'W/"<version>" of the request' })
  @ApiOperation({ summary: "A026 the provider's response (advice, or a request for more information)" })
  async respond(
    @Param('ubrn') ubrn: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const answer = await this.advice.respond(
      {
        id: ubrn,
        resource: resourceBody(body),
        ...ifMatchOf(ifMatch),
        ...caller.acting,
      },
      caller.context,
    );
    return sendFhir(this.settings, reply, answer);
  }

  @Post('STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater')
  @HttpCode(201)
  @FhirRoute(ERS_PROVIDERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'W/"<version>" of the advice and guidance request, when createFrom does not name it (_history); when both do, they must agree (422 CONFLICTING_VALUES)',
  })
  @ApiOperation({
    summary:
      'A027 convert an advice and guidance request to a referral, when the referrer authorised it: 201 with the ReferralRequest (same UBRN, TRIAGED_PROVIDER_TO_ACTION)',
  })
  async convert(
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const resource = resourceBody(body);
    const named = communicationRequestOf(resource);
    // The NHS request names the version in createFrom's reference; If-Match, when sent, says it too.
    const expected = ifMatch ?? (named.version === undefined ? undefined : `W/"${named.version}"`);
    const answer = await this.advice.convert(
      {
        id: named.ubrn,
        resource,
        ...(expected === undefined ? {} : { ifMatch: expected }),
        ...caller.acting,
      },
      caller.context,
    );
    return sendFhir(this.settings, reply, answer, 201);
  }
}
