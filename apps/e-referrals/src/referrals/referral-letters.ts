import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { FhirResource } from '@platform/contracts-ers';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import { SYSTEMS } from '../shared/fhir';

/** The NHS's eRS-AttachmentType-1 codes a referral's files carry here, with their display. */
export const ATTACHMENT_TYPES = {
  REFERRER: 'Referrer',
  PROVIDER: 'Provider',
  GUIDANCE_RESPONSE: 'Guidance Response',
} as const;
export type AttachmentType = keyof typeof ATTACHMENT_TYPES;

/** One attachment of a referral as A005 lists it: a referral letter (A012) or a file A027 attached. */
export interface LetterRow {
  id: string;
  type: AttachmentType;
  file_name: string;
  content_type: string;
  size: number;
  uploaded_by: string;
  uploaded_by_ods: string;
  created_at: Date;
  description: string | null;
}

/** Reads the referral letter set of a referral (the only code here that touches referral_letter for reads). */
@Injectable()
export class ReferralLettersRepository {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  /** The referral's attachments, read from `db` (the transaction that has just attached them, for A027's answer). */
  async letters(ubrn: string, db: Pool | PoolClient = this.pool): Promise<LetterRow[]> {
    const result = await db.query<LetterRow>(
      `SELECT a.id::text AS id, l.type, a.file_name, a.content_type, a.size, a.uploaded_by, a.uploaded_by_ods,
              a.created_at, l.description
         FROM ${this.s}.referral_letter l JOIN ${this.s}.attachment a ON a.id = l.attachment_id
        WHERE l.ubrn = $1 ORDER BY l.position, l.type`,
      [ubrn],
    );
    return result.rows;
  }
}

/** The attachments as contained eRS-DocumentReference-1 resources and supportingInfo, as the NHS A005 examples show. */
export function withLetters(referral: FhirResource, letters: LetterRow[]): FhirResource {
  if (letters.length === 0) return referral;
  const documents = letters.map((letter) => letterDocument(letter, `DocumentReference-${letter.id}`));
  const contained = ((referral['contained'] as FhirResource[] | undefined) ?? []).filter(
    (item) => item.resourceType !== 'DocumentReference',
  );
  // What the referral names besides its letters (the Advice and Guidance request it came from) stays first.
  const named = ((referral['supportingInfo'] as { reference?: string }[] | undefined) ?? []).filter(
    (item) => !item.reference?.startsWith('#DocumentReference-'),
  );
  return {
    ...referral,
    contained: [...contained, ...documents],
    supportingInfo: [...named, ...documents.map((document) => ({ reference: `#${document.id}` }))],
  };
}

/** One attachment as an eRS-DocumentReference-1 with this id, as the NHS's A005 and A025 examples show them. */
export function letterDocument(letter: LetterRow, id: string): FhirResource & { id: string } {
  return {
    id,
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
    resourceType: 'DocumentReference',
    type: {
      coding: [
        {
          system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1',
          code: letter.type,
          display: ATTACHMENT_TYPES[letter.type],
        },
      ],
    },
    status: 'current',
    indexed: letter.created_at.toISOString(),
    ...(letter.description ? { description: letter.description } : {}),
    content: [
      {
        attachment: {
          id: letter.id,
          extension: [
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AvailabilityStatus-1',
              valueCoding: {
                system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AvailabilityStatus-1',
                code: 'AVAILABLE',
              },
            },
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AttachedBy-1',
              valueReference: { identifier: { system: SYSTEMS.sdsUser, value: letter.uploaded_by } },
            },
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AttachedByOrganisation-1',
              valueReference: { identifier: { system: SYSTEMS.ods, value: letter.uploaded_by_ods } },
            },
          ],
          contentType: letter.content_type,
          url: `Binary/${letter.id}`,
          size: letter.size,
          title: letter.file_name,
          creation: letter.created_at.toISOString().slice(0, 10),
        },
      },
    ],
  };
}
