import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type FhirResource,
  type PrescriptionEventMessage,
} from '@platform/contracts-eps';
import { operationOutcome, PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { SYSTEMS } from '../shared/fhir';
import { OpenPharmacy } from '../shared/open-pharmacy';
import { actingOrganisation, checkedShortFormId, invalid, prescriptionNotFound } from '../shared/outcomes';
import { PrescriberKeyRepository } from '../shared/prescriber-key.repository';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository, type StoredPrescription } from '../shared/prescription.repository';
import { verifyPrescriptionSignature } from '../signing/digest';
import { AnotherDispenser } from './another-dispenser';

/** A nominated release hands over at most this many prescriptions per call. */
export const RELEASE_BATCH = 25;

interface Parameter {
  name?: string;
  valueCode?: string;
  valueIdentifier?: { system?: string; value?: string };
  resource?: FhirResource & { identifier?: { system?: string; value?: string }[] };
}

/** What a release asks: which pharmacy, and (patient-presented) which prescription. */
export function readReleaseRequest(parameters: FhirResource): { pharmacy: string; shortFormId: string | null } {
  if (parameters.resourceType !== 'Parameters' || !Array.isArray(parameters['parameter'])) {
    throw invalid('The request body must be a FHIR Parameters resource', 'Parameters');
  }
  const list = parameters['parameter'] as Parameter[];
  const named = (name: string): Parameter | undefined => list.find((parameter) => parameter.name === name);
  const pharmacy = named('owner')?.resource?.identifier?.find(
    (identifier) => identifier.system === SYSTEMS.odsCode,
  )?.value;
  if (!pharmacy)
    throw invalid(
      "Parameter 'owner' must be the releasing pharmacy's Organization with its ODS code",
      "Parameters.parameter('owner')",
    );
  if (named('status')?.valueCode !== 'accepted')
    throw invalid("Parameter 'status' must be 'accepted'", "Parameters.parameter('status')");
  const group = named('group-identifier');
  if (!group) return { pharmacy, shortFormId: null };
  const shortFormId = checkedShortFormId(group.valueIdentifier?.value, "Parameters.parameter('group-identifier')");
  return { pharmacy, shortFormId };
}

function searchset(entries: Record<string, unknown>[]): FhirResource {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    total: entries.length,
    entry: entries,
  };
}

const REPEAT_INFORMATION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation';

/**
 * The prescription as released: for repeat dispensing, each item says which issue this is
 * (`numberOfPrescriptionsIssued` in the UK Core repeat information); the stored, signed Bundle is unchanged.
 */
export function withRepeatInformation(prescription: StoredPrescription): Record<string, unknown> {
  if (prescription.issuesTotal <= 1) return prescription.bundle;
  const copy = JSON.parse(JSON.stringify(prescription.bundle)) as { entry?: { resource?: Record<string, unknown> }[] };
  for (const entry of copy.entry ?? []) {
    const resource = entry.resource;
    if (resource?.['resourceType'] !== 'MedicationRequest') continue;
    const extensions = (resource['extension'] ?? []) as { url?: string; extension?: { url?: string }[] }[];
    const repeat = extensions.find((extension) => extension.url === REPEAT_INFORMATION) ?? {
      url: REPEAT_INFORMATION,
      extension: [],
    };
    repeat.extension = [
      ...(repeat.extension ?? []).filter((part) => part.url !== 'numberOfPrescriptionsIssued'),
      { url: 'numberOfPrescriptionsIssued', valueUnsignedInt: prescription.currentIssue } as { url: string },
    ];
    resource['extension'] = [...extensions.filter((extension) => extension !== repeat), repeat];
  }
  return copy as Record<string, unknown>;
}

/**
 * Task/$release: without a group identifier, the pharmacy's nominated prescriptions, oldest first, at most
 * 25 per call (rows locked with SKIP LOCKED, so concurrent calls never share one), then NO_MORE_PRESCRIPTIONS;
 * with one, that prescription. A prescription goes to one pharmacy only: the release's UPDATE matches a row
 * still To Be Dispensed, so when pharmacies race exactly one wins and the others get
 * PRESCRIPTION_WITH_ANOTHER_DISPENSER with the holder's details. Each signature is checked again, with the
 * prescriber's key that verified it at creation (a later rotation changes nothing); one that no longer
 * verifies (the prescription was altered at rest, or that key was revoked) is reported in failedPrescriptions
 * and stays with Spine. Exactly once per X-Request-ID.
 */
@Injectable()
export class ReleasePrescriptionsUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly keys: PrescriberKeyRepository,
    private readonly pharmacies: OpenPharmacy,
    private readonly anotherDispenser: AnotherDispenser,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(parameters: FhirResource, context: CallContext): Promise<FhirResource> {
    const { pharmacy, shortFormId } = readReleaseRequest(parameters);
    const acting = actingOrganisation(context, 'Only the releasing pharmacy may release prescriptions');
    if (acting !== pharmacy) {
      throw new PlatformError('ACCESS_DENIED', undefined, {
        diagnostics: `The caller acts for ${acting}, not for the releasing pharmacy ${pharmacy}`,
      });
    }
    await this.pharmacies.check(pharmacy, context);
    const key = writeKey(context, 'prescription.release', parameters);
    const answer = await this.writes.run(key, async (transaction) => {
      const candidates = shortFormId
        ? await this.one(transaction, shortFormId, pharmacy, context)
        : await this.prescriptions.lockNominated(transaction, pharmacy, RELEASE_BATCH);
      const passed: Record<string, unknown>[] = [];
      const failed: Record<string, unknown>[] = [];
      for (const prescription of candidates) {
        const entry = {
          fullUrl: `urn:uuid:${prescription.longFormId}`,
          search: { mode: 'match' },
          resource: withRepeatInformation(prescription),
        };
        if (prescription.status === PRESCRIPTION_STATUS.withDispenser) {
          passed.push(entry); // already this pharmacy's: a repeated patient-presented release
          continue;
        }
        const problem = await this.signatureProblem(transaction, prescription);
        if (problem) {
          await this.prescriptions.markSignatureFailed(transaction, prescription.shortFormId);
          await this.record(
            transaction,
            prescription,
            'release-failed',
            null,
            pharmacy,
            problem.diagnostics ?? null,
            context,
          );
          failed.push({
            fullUrl: `urn:uuid:${randomUUID()}`,
            resource: { ...operationOutcome(problem.code, problem.diagnostics), id: randomUUID() },
          });
          failed.push(entry);
          continue;
        }
        if (!(await this.prescriptions.markReleased(transaction, prescription.shortFormId, pharmacy))) {
          throw await this.anotherDispenser.error(prescription.shortFormId, context);
        }
        await this.record(
          transaction,
          prescription,
          'released',
          PRESCRIPTION_STATUS.withDispenser,
          pharmacy,
          null,
          context,
        );
        passed.push(entry);
      }
      const result: FhirResource = {
        resourceType: 'Parameters',
        id: randomUUID(),
        parameter: [
          { name: 'passedPrescriptions', resource: searchset(passed) },
          { name: 'failedPrescriptions', resource: searchset(failed) },
        ],
      };
      if (!shortFormId && candidates.length === 0) {
        (result['parameter'] as unknown[]).push({
          name: 'outcome',
          resource: operationOutcome('NO_MORE_PRESCRIPTIONS', `No more prescriptions are nominated to ${pharmacy}`),
        });
      }
      return result;
    });
    this.outbox.kick();
    return answer;
  }

  /** The prescription a patient presents, locked; errors for one that cannot be released to this pharmacy. */
  private async one(
    transaction: PoolClient,
    shortFormId: string,
    pharmacy: string,
    context: CallContext,
  ): Promise<StoredPrescription[]> {
    const prescription = await this.prescriptions.get(shortFormId, transaction, true);
    if (!prescription) throw prescriptionNotFound(shortFormId);
    if (prescription.status === PRESCRIPTION_STATUS.withDispenser) {
      if (prescription.dispenser === pharmacy) return [prescription];
      throw await this.anotherDispenser.error(shortFormId, context, prescription.dispenser);
    }
    if (prescription.status !== PRESCRIPTION_STATUS.toBeDispensed) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `Prescription ${shortFormId} cannot be released: its status is ${prescription.status}`,
      });
    }
    return [prescription];
  }

  private async signatureProblem(
    transaction: PoolClient,
    prescription: StoredPrescription,
  ): Promise<PlatformError | null> {
    // The key that verified the prescription at creation, even if the prescriber has rotated since; a
    // prescription stored without one (loaded, not created) is checked against the current key.
    const key = prescription.prescriberKeyFingerprint
      ? await this.keys.byFingerprint(
          prescription.prescriberSdsUserId,
          prescription.prescriberKeyFingerprint,
          transaction,
        )
      : await this.keys.current(prescription.prescriberSdsUserId, transaction);
    try {
      if (!key)
        throw new PlatformError('UNKNOWN_PRESCRIBER_KEY', undefined, {
          diagnostics: `No key for prescriber ${prescription.prescriberSdsUserId}`,
        });
      if (key.revokedAt)
        throw new PlatformError('INVALID_SIGNATURE', undefined, {
          diagnostics: `The prescriber's key ${key.fingerprint} that signed it was revoked`,
        });
      verifyPrescriptionSignature(prescription.bundle, key.publicKeyPem);
      return null;
    } catch (error) {
      if (error instanceof PlatformError) return error;
      throw error;
    }
  }

  private async record(
    transaction: PoolClient,
    prescription: StoredPrescription,
    kind: 'released' | 'release-failed',
    to: StoredPrescription['status'] | null,
    pharmacy: string,
    detail: string | null,
    context: CallContext,
  ): Promise<void> {
    await this.history.append(transaction, {
      shortFormId: prescription.shortFormId,
      kind,
      fromStatus: prescription.status,
      toStatus: to ?? prescription.status,
      pharmacy,
      detail,
      ...actorOf(context),
    });
    const event: PrescriptionEventMessage = {
      shortFormId: prescription.shortFormId,
      status: to ?? prescription.status,
      pharmacy,
      occurredAt: new Date().toISOString(),
    };
    await this.outbox.append(
      transaction,
      kind === 'released' ? EPS_EVENTS.released : EPS_EVENTS.releaseFailed,
      event,
      context,
    );
  }
}
