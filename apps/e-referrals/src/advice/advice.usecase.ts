import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import {
  ERS_EVENTS,
  PROVIDER_FUNCTIONS,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
  shortlistParameter,
  type ChangeRequest,
  type FhirReply,
  type FhirResource,
  type ReadRequest,
  type ResourceRequest,
} from '@platform/contracts-ers';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import { DirectoryRepository } from '../directory/directory.repository';
import { checkShortlisted, CreateReferralUseCase, shortlistOf } from '../referrals/create-referral.usecase';
import { ReferralRepository, type SearchCriteria } from '../referrals/referral.repository';
import { Actors, type Actor } from '../shared/caller';
import { adviceWorklistFilter, adviceWorklistResource, type AdviceWorklistRow } from './advice-worklist';
import { ERS_PDS } from '../shared/clients';
import { codeOf, invalid, parameter, parametersOf, refuseUnknown, SYSTEMS, versionFromIfMatch } from '../shared/fhir';

const CONVERSION_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1';
const OUTCOME_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-GuidanceResponseOutcome-1';
const RESPONSE_OUTCOMES = ['RETURN_TO_REFERRER_WITH_ADVICE', 'REQUEST_FURTHER_INFORMATION'];
const MAX_TEXT = 10_000;

interface AdviceRow {
  ubrn: string;
  version: number;
  state: 'AWAITING_RESPONSE' | 'RESPONDED' | 'CONVERTED';
  patient_nhs_number: string;
  priority: string;
  specialty: string | null;
  search_criteria: SearchCriteria;
  referrer_ods: string;
  service_id: string;
  provider_ods: string;
  conversion_authorised: boolean;
  converted_ubrn: string | null;
  converting_request: string | null;
  created_at: Date;
  updated_at: Date;
}

interface MessageRow {
  position: number;
  sent_by_role: 'REQUESTER' | 'RESPONDER';
  sender: string;
  sender_ods: string;
  text: string;
  sent_at: Date;
}

const ods = (value: string): { identifier: { system: string; value: string } } => ({
  identifier: { system: SYSTEMS.ods, value },
});

function notFound(ubrn: string): PlatformError {
  return new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No advice and guidance request ${ubrn}` });
}

/** The A&G request as the NHS shows it: an eRS-CommunicationRequest-1. */
function communicationRequest(row: AdviceRow, firstMessage: string): FhirResource {
  return {
    resourceType: 'CommunicationRequest',
    id: row.ubrn,
    meta: {
      versionId: String(row.version),
      lastUpdated: row.updated_at.toISOString(),
      profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CommunicationRequest-1'],
    },
    extension: [
      {
        url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralPriority-1',
        valueCodeableConcept: { coding: [{ system: SYSTEMS.priority, code: row.priority }] },
      },
      {
        url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ProviderConversionAuthorisation-1',
        valueCoding: {
          system: CONVERSION_SYSTEM,
          code: row.conversion_authorised ? 'AUTHORISED_TO_CONVERT' : 'NOT_AUTHORISED_TO_CONVERT',
        },
      },
      ...(row.specialty
        ? [
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Specialty-1',
              valueCoding: { system: SYSTEMS.specialty, code: row.specialty },
            },
          ]
        : []),
      {
        url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AdviceAndGuidanceState-1',
        valueCoding: { code: row.state },
      },
      ...(row.converted_ubrn
        ? [
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ConvertedReferral-1',
              valueReference: { reference: `ReferralRequest/${row.converted_ubrn}` },
            },
          ]
        : []),
    ],
    identifier: [{ system: 'https://fhir.nhs.uk/Id/ers-ubrn', value: row.ubrn }],
    status: row.state === 'AWAITING_RESPONSE' ? 'active' : 'completed',
    subject: { identifier: { system: SYSTEMS.nhsNumber, value: row.patient_nhs_number } },
    recipient: [ods(row.provider_ods), { identifier: { system: SYSTEMS.ersService, value: row.service_id } }],
    requester: { agent: ods(row.referrer_ods) },
    payload: [{ contentString: firstMessage }],
    authoredOn: row.created_at.toISOString(),
  };
}

function communication(row: AdviceRow, message: MessageRow): FhirResource {
  return {
    resourceType: 'Communication',
    id: `${row.ubrn}-${message.position}`,
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Communication-1'] },
    basedOn: [{ reference: `CommunicationRequest/${row.ubrn}` }],
    status: 'completed',
    category: [
      {
        coding: [
          { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationSentBy-1', code: message.sent_by_role },
        ],
      },
    ],
    recipient: [ods(message.sent_by_role === 'REQUESTER' ? row.provider_ods : row.referrer_ods)],
    sender: ods(message.sender_ods),
    sent: message.sent_at.toISOString(),
    note: [{ text: message.text }],
  };
}

/**
 * Advice and Guidance (A044 create, A023 worklist, A024 read, A025 conversation, A026 respond, A027 convert):
 * a conversation between a referrer and exactly one service. Writes are once per X-Request-ID, take If-Match
 * where the NHS does (A026, A027), lock the request without waiting (423 to a concurrent writer) and publish
 * their event through the outbox. A027 creates the referral through the referrals' own create use case.
 */
@Injectable()
export class AdviceUseCase {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(
    private readonly actors: Actors,
    @Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
    private readonly createReferral: CreateReferralUseCase,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    @Inject(ERS_PDS) private readonly pds: PdsApi,
  ) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  private async row(db: Pool | PoolClient, ubrn: string, lock = false): Promise<AdviceRow | undefined> {
    if (!/^[0-9]{12}$/.test(ubrn)) throw invalid(`'${ubrn.slice(0, 20)}' is not a UBRN (12 digits)`);
    try {
      const result = await db.query<AdviceRow>(
        `SELECT ubrn, version, state, patient_nhs_number, priority, specialty, search_criteria, referrer_ods,
                service_id::text AS service_id, provider_ods, conversion_authorised, converted_ubrn, converting_request,
                created_at, updated_at
           FROM ${this.s}.advice_request WHERE ubrn = $1 ${lock ? 'FOR UPDATE NOWAIT' : ''}`,
        [ubrn],
      );
      return result.rows[0];
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        throw new PlatformError('REFERRAL_LOCKED', undefined, {
          diagnostics: `Advice and guidance request ${ubrn} is being updated by another request; retry`,
        });
      }
      throw error;
    }
  }

  private async messages(ubrn: string): Promise<MessageRow[]> {
    const result = await this.pool.query<MessageRow>(
      `SELECT position, sent_by_role, sender, sender_ods, text, sent_at FROM ${this.s}.advice_message
        WHERE ubrn = $1 ORDER BY position`,
      [ubrn],
    );
    return result.rows;
  }

  private async audit(ubrn: string, action: string, actor: Actor, context: CallContext): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.read_audit (ubrn, action, actor_id, organisation, business_function, request_id, correlation_id, on_behalf_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        ubrn,
        action,
        actor.userId,
        actor.organisation,
        actor.businessFunction,
        context.requestId,
        context.correlationId ?? null,
        actor.onBehalfOf ?? null,
      ],
    );
  }

  /** The request, for its referrer or its provider (FORBIDDEN otherwise), with the read audited. */
  private async visible(
    request: ReadRequest,
    context: CallContext,
    action: string,
  ): Promise<{ row: AdviceRow; actor: Actor }> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    const row = await this.row(this.pool, request.id);
    if (!row) throw notFound(request.id);
    if (row.referrer_ods !== actor.organisation && row.provider_ods !== actor.organisation) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `${actor.organisation} has no relationship with advice and guidance request ${request.id}`,
      });
    }
    await this.audit(row.ubrn, action, actor, context);
    return { row, actor };
  }

  /** A044: a request to exactly one service, with the referrer's question; AWAITING_RESPONSE. */
  async create(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const parameters = parametersOf(request.resource, 'eRS-CreateAdviceAndGuidance-Request-Parameters');
    refuseUnknown(parameters, ['patient', 'providerConversionAuthorisation', 'shortlist', 'request'], 'parameter');
    const nhsNumber = parameter(parameters, 'patient')?.valueIdentifier?.value;
    if (typeof nhsNumber !== 'string' || !/^[0-9]{10}$/.test(nhsNumber)) {
      throw invalid(`parameter patient must be an NHS number (${SYSTEMS.nhsNumber})`, 'MISSING_VALUE');
    }
    const conversion = codeOf(parameter(parameters, 'providerConversionAuthorisation'));
    if (conversion !== 'AUTHORISED_TO_CONVERT' && conversion !== 'NOT_AUTHORISED_TO_CONVERT') {
      throw invalid(`providerConversionAuthorisation must be a code of ${CONVERSION_SYSTEM}`, 'INVALID_CODE');
    }
    const text = parameter(parameters, 'request')?.valueString;
    if (typeof text !== 'string' || text.trim() === '') throw invalid('parameter request is required', 'MISSING_VALUE');
    if (text.length > MAX_TEXT) throw invalid(`The request is longer than ${MAX_TEXT} characters`);
    const { serviceIds, criteria } = shortlistOf(parameter(parameters, 'shortlist')?.resource, 'parameter/shortlist');
    if (serviceIds.length !== 1) {
      throw invalid('An advice and guidance request goes to exactly one service', 'TOO_MANY_ITEMS');
    }
    const [service] = checkShortlisted(serviceIds, await this.directory.services(serviceIds), criteria);
    if (!service) throw invalid('The service is not known', 'REFERENCE_NOT_FOUND');
    await this.pds.getPatient({ nhsNumber }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
        throw invalid(`Patient ${nhsNumber} is not known to PDS`, 'REFERENCE_NOT_FOUND');
      }
      throw error;
    });
    const reply = await this.writes.run(writeKey(context, 'advice.create', request.resource), async (transaction) => {
      const ubrn = await this.referrals.nextUbrn(transaction);
      await transaction.query(
        `INSERT INTO ${this.s}.advice_request (ubrn, state, patient_nhs_number, priority, specialty, search_criteria,
           referrer_ods, referrer_user, service_id, provider_ods, conversion_authorised)
         VALUES ($1, 'AWAITING_RESPONSE', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          ubrn,
          nhsNumber,
          criteria.priority,
          criteria.specialty ?? null,
          JSON.stringify(criteria),
          actor.organisation,
          actor.userId,
          service.id,
          service.odsCode,
          conversion === 'AUTHORISED_TO_CONVERT',
        ],
      );
      await this.addMessage(transaction, ubrn, 'REQUESTER', actor, text);
      await this.event(transaction, ERS_EVENTS.adviceCreated, ubrn, 1, 'AWAITING_RESPONSE', actor, context, {
        providerOdsCode: service.odsCode,
        serviceId: service.id,
      });
      const row = await this.row(transaction, ubrn);
      if (!row) throw notFound(ubrn);
      const created: FhirReply = {
        resource: {
          resourceType: 'Parameters',
          parameter: [{ name: 'createdCommunicationRequest', resource: communicationRequest(row, text) }],
        },
        versionId: '1',
        location: `STU3/CommunicationRequest/${ubrn}`,
      };
      return created;
    });
    this.outbox.kick();
    return reply;
  }

  private async addMessage(
    transaction: PoolClient,
    ubrn: string,
    role: 'REQUESTER' | 'RESPONDER',
    actor: Actor,
    text: string,
    outcome?: string,
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.s}.advice_message (ubrn, position, sent_by_role, sender, sender_ods, text, outcome, on_behalf_of)
       SELECT $1, coalesce(max(position), 0) + 1, $2, $3, $4, $5, $6, $7 FROM ${this.s}.advice_message WHERE ubrn = $1`,
      [ubrn, role, actor.userId, actor.organisation, text, outcome ?? null, actor.onBehalfOf ?? null],
    );
  }

  private async event(
    transaction: PoolClient,
    subject: string,
    ubrn: string,
    version: number,
    state: string,
    actor: Actor,
    context: CallContext,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.outbox.append(
      transaction,
      subject,
      {
        ubrn,
        versionId: version,
        state,
        actorOdsCode: actor.organisation,
        ...details,
        occurredAt: new Date().toISOString(),
      },
      context,
    );
  }

  /** A024. */
  async get(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    const { row } = await this.visible(request, context, 'A024');
    const [first] = await this.messages(row.ubrn);
    return { resource: communicationRequest(row, first?.text ?? ''), versionId: String(row.version) };
  }

  /** A025: every message of the conversation, oldest first, as Communication resources. */
  async conversation(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    const { row } = await this.visible(request, context, 'A025');
    const messages = await this.messages(row.ubrn);
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        total: messages.length,
        entry: messages.map((message) => ({ resource: communication(row, message) })),
      },
    };
  }

  /**
   * A023: the provider's A&G requests awaiting its response, oldest first, with the NHS's filters: service,
   * specialty (and whether one is assigned), location (the ODS code of the service's site or organisation) and
   * clinician (and whether one is assigned; requests here are never assigned to a clinician, so ASSIGNED finds none).
   */
  async worklist(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const filter = adviceWorklistFilter(request.resource);
    const conditions = [`a.provider_ods = $1`, `a.state = 'AWAITING_RESPONSE'`];
    const values: unknown[] = [actor.organisation];
    const bind = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.serviceId) conditions.push(`a.service_id = ${bind(filter.serviceId)}`);
    if (filter.specialty) conditions.push(`a.specialty = ${bind(filter.specialty)}`);
    else if (filter.specialtyAssigned !== undefined)
      conditions.push(filter.specialtyAssigned ? 'a.specialty IS NOT NULL' : 'a.specialty IS NULL');
    if (filter.location) conditions.push(`s.ods_code = ${bind(filter.location)}`);
    if (filter.clinicianAssigned === true) conditions.push('false');
    const result = await this.pool.query<AdviceWorklistRow>(
      `SELECT a.ubrn, a.version, a.priority, a.specialty, a.search_criteria->>'clinicType' AS clinic_type,
              a.patient_nhs_number, a.referrer_user, a.service_id::text AS service_id, s.name AS service_name,
              a.created_at, a.updated_at
         FROM ${this.s}.advice_request a JOIN ${this.s}.healthcare_service s ON s.id = a.service_id
        WHERE ${conditions.join(' AND ')} ORDER BY a.updated_at, a.ubrn LIMIT 500`,
      values,
    );
    return { resource: adviceWorklistResource(result.rows) };
  }

  private expectedVersion(ifMatch: string | undefined): number {
    const version = ifMatch === undefined ? undefined : versionFromIfMatch(ifMatch);
    if (version === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: 'If-Match must be supplied with the version of the advice and guidance request (W/"<version>")',
      });
    }
    return version;
  }

  /** The request locked for a change by its provider, at the version If-Match names. */
  private async lockForProvider(
    transaction: PoolClient,
    ubrn: string,
    actor: Actor,
    version: number,
  ): Promise<AdviceRow> {
    const row = await this.row(transaction, ubrn, true);
    if (!row) throw notFound(ubrn);
    if (row.provider_ods !== actor.organisation) {
      throw new PlatformError('NO_RELATIONSHIP', undefined, {
        diagnostics: `${actor.organisation} is not the provider of advice and guidance request ${ubrn}`,
      });
    }
    if (row.version !== version) {
      throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
        diagnostics: `The request is at version ${row.version}, not ${version}`,
      });
    }
    return row;
  }

  /** A026: the provider answers (advice, or a request for more information); RESPONDED. */
  async respond(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = this.expectedVersion(request.ifMatch);
    const parameters = parametersOf(request.resource, 'eRS-SendCommunicationToRequester-Request-Parameters');
    refuseUnknown(
      parameters,
      ['guidanceOutcome', 'guidanceIntendedRecommendation', 'guidance', 'updatedPriority'],
      'parameter',
    );
    const outcome = codeOf(parameter(parameters, 'guidanceOutcome'));
    if (!outcome || !RESPONSE_OUTCOMES.includes(outcome)) {
      throw invalid(`guidanceOutcome must be a code of ${OUTCOME_SYSTEM}`, 'INVALID_CODE');
    }
    const guidance = parameter(parameters, 'guidance')?.valueString;
    if (typeof guidance !== 'string' || guidance.trim() === '')
      throw invalid('parameter guidance is required', 'MISSING_VALUE');
    if (guidance.length > MAX_TEXT) throw invalid(`The guidance is longer than ${MAX_TEXT} characters`);
    const reply = await this.writes.run(writeKey(context, 'advice.respond', request), async (transaction) => {
      const row = await this.lockForProvider(transaction, request.id, actor, version);
      if (row.state !== 'AWAITING_RESPONSE') {
        throw invalid(`The request is ${row.state}: it has been answered`, 'INVALID_REQUEST_STATE');
      }
      await this.addMessage(transaction, row.ubrn, 'RESPONDER', actor, guidance, outcome);
      await transaction.query(
        `UPDATE ${this.s}.advice_request SET state = 'RESPONDED', version = version + 1, updated_at = now() WHERE ubrn = $1`,
        [row.ubrn],
      );
      await this.event(
        transaction,
        ERS_EVENTS.adviceResponded,
        row.ubrn,
        row.version + 1,
        'RESPONDED',
        actor,
        context,
        {
          reason: outcome,
          referrerOdsCode: row.referrer_ods,
        },
      );
      const after = await this.row(transaction, row.ubrn);
      const first = await transaction.query<{ text: string }>(
        `SELECT text FROM ${this.s}.advice_message WHERE ubrn = $1 AND position = 1`,
        [row.ubrn],
      );
      const answered: FhirReply = {
        resource: communicationRequest(after ?? row, first.rows[0]?.text ?? ''),
        versionId: String(row.version + 1),
      };
      return answered;
    });
    this.outbox.kick();
    return reply;
  }

  /**
   * A027: the provider converts the request into a referral, when the referrer authorised it. The request is
   * claimed first (locked, at the If-Match version, by this X-Request-ID), so that of any number of
   * concurrent converters one creates a referral; the referral is created through the referrals' own use
   * case, for the referring practice, with the request's service as its shortlist; then the request is
   * CONVERTED with ers.advice.converted.v1. A retry with the same X-Request-ID finishes and answers the same.
   */
  async convert(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = this.expectedVersion(request.ifMatch);
    const claimed = await this.claim(request.id, actor, version, context.requestId);
    if (claimed.converted_ubrn) return this.converted(claimed);
    // The referral belongs to the referring practice: created as it would create it. The calls to PDS and the
    // registry still carry the provider's own signed statement (context.assertion), so they are made for them.
    const referrerContext: CallContext = {
      ...context,
      caller: {
        id: actor.userId,
        roles: ['clinician'],
        organisation: claimed.referrer_ods,
      },
    };
    const parameters: FhirResource = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: SYSTEMS.nhsNumber, value: claimed.patient_nhs_number } },
        shortlistParameter([claimed.service_id], {
          priority: claimed.priority,
          ...(claimed.specialty ? { specialty: claimed.specialty } : {}),
          ageAndGenderAppropriate: false,
        }),
      ],
    };
    let created: FhirReply;
    try {
      created = await this.createReferral.execute(
        { resource: parameters, businessFunction: 'REFERRING_CLINICIAN' },
        referrerContext,
        false,
      );
    } catch (error) {
      // The claim is released: another attempt may convert (this one created nothing).
      await this.pool.query(
        `UPDATE ${this.s}.advice_request SET converting_request = NULL
          WHERE ubrn = $1 AND converting_request = $2 AND converted_ubrn IS NULL`,
        [claimed.ubrn, context.requestId],
      );
      throw error;
    }
    const referralUbrn = created.resource['id'];
    if (typeof referralUbrn !== 'string') throw new PlatformError('REC_SERVER_ERROR', 'The referral has no UBRN');
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const row = await this.row(client, claimed.ubrn, false);
      if (row && !row.converted_ubrn) {
        await client.query(
          `UPDATE ${this.s}.advice_request SET state = 'CONVERTED', converted_ubrn = $2, version = version + 1,
             updated_at = now() WHERE ubrn = $1`,
          [claimed.ubrn, referralUbrn],
        );
        await this.event(
          client,
          ERS_EVENTS.adviceConverted,
          claimed.ubrn,
          row.version + 1,
          'CONVERTED',
          actor,
          context,
          {
            referralUbrn,
            referrerOdsCode: row.referrer_ods,
          },
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    this.outbox.kick();
    const after = await this.row(this.pool, claimed.ubrn);
    return this.converted(after ?? claimed);
  }

  private converted(row: AdviceRow): FhirReply {
    return {
      resource: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'referral', valueReference: { reference: `ReferralRequest/${row.converted_ubrn ?? ''}` } },
          { name: 'communicationRequest', valueReference: { reference: `CommunicationRequest/${row.ubrn}` } },
        ],
      },
      versionId: String(row.version),
      location: `STU3/ReferralRequest/${row.converted_ubrn ?? ''}`,
    };
  }

  /** Claims the conversion for this X-Request-ID (or finds it claimed by it, or already done by it). */
  private async claim(ubrn: string, actor: Actor, version: number, requestId: string): Promise<AdviceRow> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const row = await this.row(client, ubrn, true);
      if (!row) throw notFound(ubrn);
      if (row.provider_ods !== actor.organisation) {
        throw new PlatformError('NO_RELATIONSHIP', undefined, {
          diagnostics: `${actor.organisation} is not the provider of advice and guidance request ${ubrn}`,
        });
      }
      const mine = row.converting_request === requestId;
      if (!mine) {
        if (row.version !== version) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The request is at version ${row.version}, not ${version}`,
          });
        }
        if (!row.conversion_authorised) {
          throw invalid('The referrer has not authorised the provider to convert this request', 'INAPPROPRIATE_VALUE');
        }
        if (row.state === 'CONVERTED' || row.converting_request !== null) {
          throw invalid('The request has been converted to a referral already', 'INVALID_REQUEST_STATE');
        }
        await client.query(`UPDATE ${this.s}.advice_request SET converting_request = $2 WHERE ubrn = $1`, [
          ubrn,
          requestId,
        ]);
      }
      await client.query('COMMIT');
      return row;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
