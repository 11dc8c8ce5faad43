import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import {
  ERS_EVENTS,
  PROVIDER_FUNCTIONS,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
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
import { concept, PRIORITIES } from '../reference/code-systems';
import { checkShortlisted, newAccessCode, shortlistOf } from '../referrals/create-referral.usecase';
import {
  letterDocument,
  ReferralLettersRepository,
  withLetters,
  type AttachmentType,
} from '../referrals/referral-letters';
import { ReferralChanges } from '../referrals/referral-changes';
import { appointmentResource } from '../referrals/referral-resource';
import { ReferralRepository, type Referral, type SearchCriteria } from '../referrals/referral.repository';
import { Actors, type Actor } from '../shared/caller';
import { adviceWorklistFilter, adviceWorklistResource, type AdviceWorklistRow } from './advice-worklist';
import { ERS_PDS } from '../shared/clients';
import {
  codeOf,
  invalid,
  parameter,
  parametersOf,
  refuseUnknown,
  SYSTEMS,
  versionFromIfMatch,
  type Parameter,
} from '../shared/fhir';

const CONVERSION_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1';
const OUTCOME_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-GuidanceResponseOutcome-1';
const RESPONSE_OUTCOMES = ['RETURN_TO_REFERRER_WITH_ADVICE', 'REQUEST_FURTHER_INFORMATION'];
/** The NHS's limit on an A&G message (A044's request, A026's and A027's guidance): 8000 characters. */
const MAX_TEXT = 8000;
/** Review comments, as the NHS's other comments (cancellation, rejection): at most 2000 characters. */
const MAX_COMMENTS = 2000;
const CONVERTED_REASON = {
  system: SYSTEMS.reviewOutcome,
  code: 'PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER',
  display: 'Provider Converted Advice and Guidance, Admin to Refer',
};
/** A027's file parameters and the eRS-AttachmentType-1 code each must carry (the NHS's A027 422 table). */
const FILE_PARAMETERS = { reviewAttachmentFile: 'PROVIDER', guidanceAttachmentFile: 'GUIDANCE_RESPONSE' } as const;
const ATTACHMENT_TYPE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1';
/** At most this many files on one conversion, as A012 takes at most 20 letters. */
const MAX_FILES = 20;
/** A file A027 attaches to the referral it creates: uploaded (A020) for the request, named as Binary/{id}. */
export interface ConvertedFile {
  id: string;
  type: Extract<AttachmentType, 'PROVIDER' | 'GUIDANCE_RESPONSE'>;
  description: string | null;
}
const CONVERT_PARAMETERS = [
  'createFrom',
  'guidance',
  'newReferralPriority',
  'reviewComments',
  'guidanceAttachmentFile',
  'reviewAttachmentFile',
] as const;

/** What an A027 asks, every value checked (422 with the NHS's code) before anything is read or written. */
export function conversionParameters(request: ChangeRequest): {
  version?: number;
  guidance: string;
  priority: string;
  reviewComments: string;
  files: ConvertedFile[];
} {
  const parameters = parametersOf(request.resource, 'eRS-CreateFromCommunicationRequestActionLater-Request-Parameters');
  refuseUnknown(parameters, CONVERT_PARAMETERS, 'parameter');
  for (const name of ['createFrom', 'guidance', 'newReferralPriority', 'reviewComments']) {
    if (parameters.filter((item) => item.name === name).length > 1) {
      throw invalid(`parameter ${name} may be given once`, 'INAPPROPRIATE_VALUE');
    }
  }
  const files = filesOf(parameters);
  const createFrom = parameter(parameters, 'createFrom');
  if (!createFrom) throw invalid('parameter createFrom is required', 'MISSING_VALUE');
  const reference = (createFrom['valueReference'] as { reference?: unknown } | undefined)?.reference;
  const named =
    typeof reference === 'string'
      ? /^CommunicationRequest\/([0-9]{12})(?:\/_history\/([0-9]{1,9}))?$/.exec(reference)
      : null;
  if (!named || named[1] !== request.id) {
    throw invalid("createFrom must reference 'CommunicationRequest/{ubrn}/_history/{version}'");
  }
  const guidance = textOf(parameter(parameters, 'guidance'), 'guidance', MAX_TEXT);
  const reviewComments = textOf(parameter(parameters, 'reviewComments'), 'reviewComments', MAX_COMMENTS);
  const priorityParameter = parameter(parameters, 'newReferralPriority');
  if (!priorityParameter) throw invalid('parameter newReferralPriority is required', 'MISSING_VALUE');
  const coding = priorityParameter.valueCoding;
  const priority = codeOf(priorityParameter);
  if (!coding || coding.system !== SYSTEMS.priority || !priority || !concept(PRIORITIES, priority)) {
    throw invalid(
      `newReferralPriority must be a valueCoding of ${SYSTEMS.priority}: ${PRIORITIES.map((item) => item.code).join(', ')}`,
    );
  }
  return {
    ...(named[2] === undefined ? {} : { version: Number(named[2]) }),
    guidance,
    priority,
    reviewComments,
    files,
  };
}

/**
 * The reviewAttachmentFile and guidanceAttachmentFile parameters (0..* each), as the NHS's request schema has them:
 * an eRS-DocumentReference-1 whose type is PROVIDER or GUIDANCE_RESPONSE respectively (INAPPROPRIATE_VALUE
 * otherwise, with the NHS's diagnostics) and whose content[0].attachment.url names an uploaded file, Binary/{id}.
 */
function filesOf(parameters: Parameter[]): ConvertedFile[] {
  const files: ConvertedFile[] = [];
  parameters.forEach((item, index) => {
    const name = item.name as string;
    if (!(name in FILE_PARAMETERS)) return;
    const type = FILE_PARAMETERS[name as keyof typeof FILE_PARAMETERS];
    const document = item.resource as Record<string, unknown> | undefined;
    if (document?.['resourceType'] !== 'DocumentReference') {
      throw invalid(`parameter[${index}]/resource (${name}) must be an eRS-DocumentReference-1`);
    }
    const url = (document['content'] as { attachment?: { url?: unknown } }[] | undefined)?.[0]?.attachment?.url;
    if (url === undefined) {
      throw invalid(`parameter[${index}]/resource/content[0]/attachment/url is required`, 'MISSING_VALUE');
    }
    const id =
      typeof url === 'string'
        ? /^Binary\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(url)?.[1]
        : undefined;
    if (!id) throw invalid(`parameter[${index}]/resource/content[0]/attachment/url must be 'Binary/{id}'`);
    const coding = (document['type'] as { coding?: { system?: unknown; code?: unknown }[] } | undefined)?.coding?.[0];
    if (coding?.system !== ATTACHMENT_TYPE_SYSTEM || coding.code !== type) {
      throw invalid(
        `parameter[${index}]/resource/type/coding[0] must be '${type}' for Binary/${id}`,
        'INAPPROPRIATE_VALUE',
      );
    }
    if (document['status'] !== undefined && document['status'] !== 'current') {
      throw invalid(`parameter[${index}]/resource/status must be 'current'`);
    }
    if (files.some((file) => file.id === id)) throw invalid(`Binary/${id} is listed twice`);
    const description = typeof document['description'] === 'string' ? document['description'].slice(0, 1000) : null;
    files.push({ id, type, description });
  });
  if (files.length > MAX_FILES) throw invalid(`At most ${MAX_FILES} attachment files`, 'TOO_MANY_ITEMS');
  return files;
}

/** A mandatory valueString of at most `max` characters: MISSING_VALUE when absent or blank, INVALID_VALUE when longer. */
function textOf(item: Parameter | undefined, name: string, max: number): string {
  const text = item?.valueString;
  if (item === undefined || (typeof text === 'string' && text.trim() === '')) {
    throw invalid(`parameter ${name} is required`, 'MISSING_VALUE');
  }
  if (typeof text !== 'string') throw invalid(`parameter ${name} takes a valueString`);
  if (text.length > max) throw invalid(`${name} is longer than ${max} characters`);
  return text;
}

/**
 * A044, A023, A026 and A027 support healthcare worker, user-restricted access only (the NHS's "Supported security
 * patterns"; A024 and A025 also allow application-restricted access): a statement signed as application-restricted
 * is 403 ACCESS_DENIED before anything is read. A statement without a mode (a gateway older than the claim) is
 * still served, as before the mode was signed.
 */
function refuseApplicationRestricted(context: CallContext, endpoint: string): void {
  if (context.caller?.accessMode === 'application-restricted') {
    throw new PlatformError('ACCESS_DENIED', undefined, {
      diagnostics: `${endpoint} supports healthcare worker, user-restricted access only`,
    });
  }
}

/**
 * The request's row lock, taken NOWAIT, is held by another write. Not a PlatformError, so that IdempotentWrites
 * rolls the whole write back, its claim of the X-Request-ID included, rather than keep a 423 as the final answer.
 */
class RequestLocked extends Error {
  constructor(readonly ubrn: string) {
    super(`advice and guidance request ${ubrn} is locked`);
  }
}

interface AdviceRow {
  ubrn: string;
  version: number;
  state: 'AWAITING_RESPONSE' | 'RESPONDED' | 'CONVERTED';
  patient_nhs_number: string;
  priority: string;
  specialty: string | null;
  search_criteria: SearchCriteria;
  referrer_ods: string;
  referrer_user: string;
  service_id: string;
  provider_ods: string;
  conversion_authorised: boolean;
  converted_ubrn: string | null;
  created_at: Date;
  updated_at: Date;
}

interface MessageRow {
  position: number;
  sent_by_role: 'REQUESTER' | 'RESPONDER';
  sender: string;
  sender_ods: string;
  text: string;
  outcome: string | null;
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

/** A message as an eRS-Communication-1; its files (`documents`, ids) as the NHS's A025 examples reference them. */
function communication(row: AdviceRow, message: MessageRow, documents: readonly string[] = []): FhirResource {
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
    ...(documents.length > 0
      ? { payload: documents.map((id) => ({ contentReference: { reference: `DocumentReference/${id}` } })) }
      : {}),
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
    private readonly changes: ReferralChanges,
    private readonly letters: ReferralLettersRepository,
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
                referrer_user, service_id::text AS service_id, provider_ods, conversion_authorised, converted_ubrn,
                created_at, updated_at
           FROM ${this.s}.advice_request WHERE ubrn = $1 ${lock ? 'FOR UPDATE NOWAIT' : ''}`,
        [ubrn],
      );
      return result.rows[0];
    } catch (error) {
      // Not yet the 423: a PlatformError inside a write would be kept as that X-Request-ID's final answer, and
      // the retry the 423 asks for would get it again however long ago the lock was released (lockedAnswer).
      if ((error as { code?: string }).code === '55P03') throw new RequestLocked(ubrn);
      throw error;
    }
  }

  /** A write of the request, whose lock taken NOWAIT was held by another: 423, not kept for a retry. */
  private async lockedAnswer<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (error) {
      if (error instanceof RequestLocked) {
        throw new PlatformError('REFERRAL_LOCKED', undefined, {
          diagnostics: `Advice and guidance request ${error.ubrn} is being updated by another request; retry`,
        });
      }
      throw error;
    }
  }

  private async messages(ubrn: string): Promise<MessageRow[]> {
    const result = await this.pool.query<MessageRow>(
      `SELECT position, sent_by_role, sender, sender_ods, text, outcome, sent_at FROM ${this.s}.advice_message
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
    refuseApplicationRestricted(context, 'A044');
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
        referrerOdsCode: actor.organisation,
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

  /**
   * A025: every message of the conversation, oldest first, as Communication resources. The guidance of a conversion
   * (A027) carries its guidanceAttachmentFile files, as the NHS's examples show a message's files: referenced from
   * its payload and included in the Bundle as DocumentReferences (search mode `include`, not counted in `total`).
   */
  async conversation(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    const { row } = await this.visible(request, context, 'A025');
    const messages = await this.messages(row.ubrn);
    const files = row.converted_ubrn
      ? (await this.letters.letters(row.converted_ubrn)).filter((file) => file.type === 'GUIDANCE_RESPONSE')
      : [];
    const converting = messages.findLast((message) => message.outcome === CONVERTED_REASON.code);
    const filesOf = (message: MessageRow): string[] => (message === converting ? files.map((file) => file.id) : []);
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        total: messages.length,
        entry: [
          ...messages.map((message) => ({ resource: communication(row, message, filesOf(message)) })),
          ...(converting ? files : []).map((file) => ({
            resource: letterDocument(file, file.id),
            search: { mode: 'include' },
          })),
        ],
      },
    };
  }

  /**
   * A023: the provider's A&G requests awaiting its response, oldest first, with the NHS's filters: service,
   * specialty (and whether one is assigned), location (the ODS code of the service's site or organisation) and
   * clinician (and whether one is assigned; requests here are never assigned to a clinician, so ASSIGNED finds none).
   */
  async worklist(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    refuseApplicationRestricted(context, 'A023');
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
    refuseApplicationRestricted(context, 'A026');
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
    const reply = await this.lockedAnswer(
      this.writes.run(writeKey(context, 'advice.respond', request), async (transaction) => {
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
      }),
    );
    this.outbox.kick();
    return reply;
  }

  /**
   * A027 ($ers.createFromCommunicationRequestActionLater): the provider, authorised by the referrer, converts a
   * request awaiting its response into a referral and tasks its admin team to refer the patient on; its guidance
   * goes back to the referrer as the conversation's last message. As the NHS answers, the referral keeps the
   * request's UBRN and continues its versions (request at n, referral at n + 1): TRIAGED_PROVIDER_TO_ACTION with
   * the reason PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER and the review comments, at the
   * newReferralPriority, shortlisting the request's service, with a proposed appointment there standing for the
   * admin team's task, and the request in supportingInfo. The provider's files (reviewAttachmentFile, PROVIDER;
   * guidanceAttachmentFile, GUIDANCE_RESPONSE; uploaded by A020 for the request) become the referral's
   * attachments, which A005 and the answer list as A012's letters are. Every value is checked before anything is
   * read; then one write, once per X-Request-ID: the request locked without waiting (423 to a concurrent writer),
   * its version checked (409), the files checked, the referral, its files, its appointment, the guidance message,
   * the request CONVERTED and both events.
   */
  async convert(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    refuseApplicationRestricted(context, 'A027');
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const asked = conversionParameters(request);
    // The NHS names the version in createFrom (_history); If-Match, when sent too, must say the same.
    const matched = request.ifMatch === undefined ? undefined : this.expectedVersion(request.ifMatch);
    if (matched !== undefined && asked.version !== undefined && matched !== asked.version) {
      throw invalid(
        `If-Match names version ${matched} and createFrom version ${asked.version} of the request`,
        'CONFLICTING_VALUES',
      );
    }
    const version = matched ?? asked.version ?? this.expectedVersion(undefined);
    // The patient is checked with PDS before the write (no lock is held across the call); a request that can no
    // longer be converted is refused inside the write, where a retry of a conversion gets its first answer.
    const current = await this.row(this.pool, request.id);
    if (current?.state === 'AWAITING_RESPONSE' && current.provider_ods === actor.organisation) {
      await this.checkPatient(current.patient_nhs_number, context);
    }
    const reply = await this.lockedAnswer(
      this.writes.run(writeKey(context, 'advice.convert', request), async (transaction) => {
        const row = await this.row(transaction, request.id, true);
        if (!row) {
          throw invalid(`createFrom names no advice and guidance request (${request.id})`, 'REFERENCE_NOT_FOUND');
        }
        if (row.provider_ods !== actor.organisation) {
          throw new PlatformError('NO_RELATIONSHIP', undefined, {
            diagnostics: `${actor.organisation} is not the provider of advice and guidance request ${row.ubrn}`,
          });
        }
        if (row.version !== version) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The request is at version ${row.version}, not ${version}`,
          });
        }
        if (!row.conversion_authorised) {
          throw invalid('The referrer has not authorised the provider to convert this request', 'INAPPROPRIATE_VALUE');
        }
        if (row.state !== 'AWAITING_RESPONSE') {
          throw invalid(
            `The request is ${row.state}: only a request awaiting the provider's response is converted`,
            'INVALID_REQUEST_STATE',
          );
        }
        const [service] = await this.directory.services([row.service_id], transaction);
        if (!service) throw new PlatformError('REC_SERVER_ERROR', 'The request names no service');
        if (!service.priorities.includes(asked.priority)) {
          throw new PlatformError('UNSUPPORTED_PRIORITY', undefined, {
            diagnostics: `Service ${service.id} does not take ${asked.priority} referrals`,
          });
        }
        await this.checkFiles(transaction, row, actor, asked.files);
        // The request's number is the referral's; only a store seeded with the NHS examples (ERS_SEED=sandbox, whose
        // example referrals and requests share numbers) can hold a referral under it already: that one gets the next.
        const ubrn = (await this.referrals.exists(transaction, row.ubrn))
          ? await this.referrals.nextUbrn(transaction)
          : row.ubrn;
        const nextVersion = row.version + 1;
        const criteria: SearchCriteria = { ...row.search_criteria, priority: asked.priority };
        const referral: Referral = {
          ubrn,
          version: nextVersion,
          state: 'TRIAGED_PROVIDER_TO_ACTION',
          patientNhsNumber: row.patient_nhs_number,
          priority: asked.priority,
          specialty: row.specialty,
          clinicType: criteria.clinicType ?? null,
          referrerOds: row.referrer_ods,
          referrerUser: row.referrer_user,
          accessCode: newAccessCode(),
          serviceId: service.id,
          providerOds: service.odsCode,
          appointmentId: null,
          searchCriteria: criteria,
          pathwayStart: null,
          createdAt: new Date().toISOString(),
          adviceUbrn: row.ubrn,
        };
        await this.referrals.insert(transaction, referral);
        if (asked.files.length > 0) {
          await transaction.query(
            `INSERT INTO ${this.s}.referral_letter (ubrn, attachment_id, position, description, type)
             SELECT $1, id, n, d, t FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS f(id, d, t, n)`,
            [
              ubrn,
              asked.files.map((file) => file.id),
              asked.files.map((file) => file.description),
              asked.files.map((file) => file.type),
            ],
          );
        }
        const appointmentId = await this.referrals.insertAppointment(transaction, {
          ubrn,
          serviceId: service.id,
          slotId: null,
          status: 'proposed',
        });
        await this.referrals.saveAppointmentVersion(transaction, {
          id: appointmentId,
          ubrn,
          version: 1,
          serviceId: service.id,
          slotId: null,
          status: 'proposed',
          resource: appointmentResource({
            id: appointmentId,
            version: 1,
            status: 'proposed',
            service,
            patientNhsNumber: row.patient_nhs_number,
            ubrn,
            referralVersion: nextVersion,
            reasonCoding: CONVERTED_REASON,
            comment: asked.reviewComments,
            created: new Date().toISOString(),
          }),
        });
        const answer = await this.changes.save(
          transaction,
          { ...referral, appointmentId },
          {
            referral: { ...referral, appointmentId },
            action: CONVERTED_REASON.code,
            event: ERS_EVENTS.referralCreated,
            reason: CONVERTED_REASON.code,
            comment: asked.reviewComments,
            shortlist: [service.id],
            eventDetails: { appointmentId },
            stateDetail: { reason: CONVERTED_REASON, comments: asked.reviewComments },
          },
          actor,
          context,
        );
        await this.addMessage(transaction, row.ubrn, 'RESPONDER', actor, asked.guidance, CONVERTED_REASON.code);
        await transaction.query(
          `UPDATE ${this.s}.advice_request SET state = 'CONVERTED', converted_ubrn = $2, version = $3, updated_at = now()
          WHERE ubrn = $1`,
          [row.ubrn, ubrn, nextVersion],
        );
        await this.event(transaction, ERS_EVENTS.adviceConverted, row.ubrn, nextVersion, 'CONVERTED', actor, context, {
          referralUbrn: ubrn,
          referrerOdsCode: row.referrer_ods,
        });
        // The files in the answer as A005 lists them (the referral's contained DocumentReferences).
        const resource =
          asked.files.length > 0
            ? withLetters(answer.resource, await this.letters.letters(ubrn, transaction))
            : undefined;
        const converted: FhirReply = {
          ...answer,
          ...(resource ? { resource } : {}),
          location: `STU3/ReferralRequest/${ubrn}`,
        };
        return converted;
      }),
    );
    this.outbox.kick();
    return reply;
  }

  /**
   * A027's files, before anything is written: each uploaded (REFERENCE_NOT_FOUND otherwise) by A020 with the
   * request's UBRN as its NHSD-eRS-Referral-ID (INAPPROPRIATE_VALUE otherwise, as the NHS says) by the converting
   * provider's organisation (INAPPROPRIATE_VALUE: another's file is not the provider's to send), no two of the same
   * file name (DUPLICATE_FILENAME, as the NHS answers).
   */
  private async checkFiles(
    transaction: PoolClient,
    row: AdviceRow,
    actor: Actor,
    files: readonly ConvertedFile[],
  ): Promise<void> {
    if (files.length === 0) return;
    const found = await transaction.query<{
      id: string;
      advice_ubrn: string | null;
      file_name: string;
      uploaded_by_ods: string;
    }>(
      `SELECT id::text AS id, advice_ubrn, file_name, uploaded_by_ods FROM ${this.s}.attachment WHERE id = ANY($1::uuid[])`,
      [files.map((file) => file.id)],
    );
    const names = new Set<string>();
    for (const file of files) {
      const attachment = found.rows.find((item) => item.id === file.id);
      if (!attachment) throw invalid(`No attachment Binary/${file.id}`, 'REFERENCE_NOT_FOUND');
      if (attachment.advice_ubrn !== row.ubrn) {
        throw invalid(
          `Binary/${file.id} was not uploaded for advice and guidance request ${row.ubrn} (NHSD-eRS-Referral-ID)`,
          'INAPPROPRIATE_VALUE',
        );
      }
      if (attachment.uploaded_by_ods !== actor.organisation) {
        throw invalid(`Binary/${file.id} was not uploaded by ${actor.organisation}`, 'INAPPROPRIATE_VALUE');
      }
      if (names.has(attachment.file_name)) {
        throw invalid(
          `'${attachment.file_name.slice(0, 100)}' matches the name of a file already associated with the request`,
          'DUPLICATE_FILENAME',
        );
      }
      names.add(attachment.file_name);
    }
  }

  /** The patient is in PDS and alive (PATIENT_ERROR otherwise, as A027's table says). */
  private async checkPatient(nhsNumber: string, context: CallContext): Promise<void> {
    const found = await this.pds.getPatient({ nhsNumber }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
        throw invalid(`The request's patient is not known to PDS`, 'PATIENT_ERROR');
      }
      throw error;
    });
    const patient = found.patient as unknown as Record<string, unknown>;
    const deceased = patient['deceasedDateTime'] ?? patient['deceasedBoolean'];
    if (deceased !== undefined && deceased !== false) {
      throw invalid(`The request's patient is recorded in PDS as deceased`, 'PATIENT_ERROR');
    }
  }
}
