import { Inject, Injectable } from '@nestjs/common';
import PDFDocument from 'pdfkit';
import type { Pool } from 'pg';
import type { PatientLetterReply, PatientLetterRequest } from '@platform/contracts-ers';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import { ReferralRepository } from '../referrals/referral.repository';
import { Actors } from '../shared/caller';
import { ERS_PDS } from '../shared/clients';
import { invalid } from '../shared/fhir';

/** Who prints the patient's letter (A019, as the NHS specification lists): referring clinicians and their admins. */
const LETTER_FUNCTIONS = ['REFERRING_CLINICIAN', 'REFERRING_CLINICIAN_ADMIN'] as const;

interface LetterPatient {
  name: string;
  /** Absent for a restricted patient: their address is never printed. */
  address?: string[];
}

interface LetterService {
  name: string;
  waitDays: number;
  bookable: boolean;
}

export interface LetterContent {
  ubrn: string;
  accessCode: string;
  patient: LetterPatient;
  services: LetterService[];
  bookingUrl: string;
  date: Date;
}

export function patientOf(resource: Record<string, unknown>): LetterPatient {
  const names = (resource['name'] as { use?: string; given?: string[]; family?: string; prefix?: string[] }[]) ?? [];
  const name = names.find((item) => item.use === 'usual') ?? names[0];
  const full = [...(name?.prefix ?? []), ...(name?.given ?? []), name?.family ?? ''].filter(Boolean).join(' ');
  const security = (resource['meta'] as { security?: { code?: string }[] } | undefined)?.security ?? [];
  const restricted = security.some((label) => label.code !== 'U');
  if (restricted) return { name: full };
  const addresses = (resource['address'] as { use?: string; line?: string[]; postalCode?: string }[]) ?? [];
  const home = addresses.find((item) => item.use === 'home') ?? addresses[0];
  const lines = [...(home?.line ?? []), home?.postalCode ?? ''].filter((line) => line.trim() !== '');
  return { name: full, ...(lines.length ? { address: lines } : {}) };
}

const grouped = (text: string): string => text.replace(/(.{4})(?=.)/g, '$1 ');

/** The letter as a PDF (pdfkit, A4, the standard Helvetica faces). */
export function renderPatientLetter(content: LetterContent): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({
      size: 'A4',
      margin: 56,
      info: { Title: 'Your NHS e-Referral: how to book your appointment', Author: 'NHS e-Referral Service' },
    });
    const chunks: Buffer[] = [];
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);

    pdf.font('Helvetica-Bold').fontSize(20).fillColor('#005eb8').text('NHS', { align: 'right' });
    pdf.fontSize(11).fillColor('#212b32').font('Helvetica').text('NHS e-Referral Service', { align: 'right' });
    pdf.moveDown(2);
    pdf.text(content.patient.name);
    for (const line of content.patient.address ?? []) pdf.text(line);
    pdf.moveDown();
    pdf.text(content.date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' }));
    pdf.moveDown(2);
    pdf.font('Helvetica-Bold').fontSize(16).text('Book your hospital appointment');
    pdf.moveDown(0.5);
    pdf.font('Helvetica').fontSize(11);
    pdf.text(`Dear ${content.patient.name || 'patient'},`);
    pdf.moveDown(0.5);
    pdf.text(
      'You have been referred for a hospital or clinic appointment. You can choose where to go from the services ' +
        'below and book a date and time that suits you.',
    );
    pdf.moveDown();
    pdf.font('Helvetica-Bold').text(`Booking reference number: ${grouped(content.ubrn)}`);
    pdf.text(`Password: ${content.accessCode}`);
    pdf.font('Helvetica').moveDown();
    pdf.font('Helvetica-Bold').text('Services you can choose from');
    pdf.font('Helvetica');
    for (const service of content.services) {
      const wait = `usual wait about ${Math.max(1, Math.round(service.waitDays / 7))} week(s)`;
      pdf.text(
        `- ${service.name} (${wait})${service.bookable ? '' : ': the hospital will contact you to arrange a time'}`,
        { indent: 12 },
      );
    }
    pdf.moveDown();
    pdf.font('Helvetica-Bold').text('How to book');
    pdf.font('Helvetica');
    pdf.text(
      `Online: go to ${content.bookingUrl} and enter your booking reference number, password and year of birth. ` +
        'You can also change or cancel your appointment there.',
    );
    pdf.moveDown(0.5);
    pdf.text('By phone: call the number your GP practice gave you and quote your booking reference number.');
    pdf.moveDown();
    pdf.text(
      'Keep this letter safe. Do not share your password: anyone with it and your booking reference can see and ' +
        'change your appointment.',
    );
    pdf.end();
  });
}

/**
 * A019 generate patient letter: for the referring organisation only, the patient checked in PDS (name, and
 * address unless the record is restricted), the shortlist's services, the booking reference and password, and
 * how to book on the patient page. The read is audited as every read of a referral is.
 */
@Injectable()
export class PatientLetterUseCase {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(
    private readonly actors: Actors,
    @Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase,
    private readonly referrals: ReferralRepository,
    @Inject(ERS_PDS) private readonly pds: PdsApi,
  ) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  async execute(request: PatientLetterRequest, context: CallContext): Promise<PatientLetterReply> {
    const actor = await this.actors.resolve(context, request, LETTER_FUNCTIONS);
    if (!/^[0-9]{12}$/.test(request.id)) {
      throw invalid(`'${request.id.slice(0, 20)}' is not a UBRN (12 digits)`);
    }
    const referral = await this.referrals.find(request.id);
    if (!referral) {
      throw new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No referral ${request.id}` });
    }
    if (referral.referrerOds !== actor.organisation) {
      throw new PlatformError('NO_RELATIONSHIP', undefined, {
        diagnostics: `${actor.organisation} has no relationship with referral ${request.id}`,
      });
    }
    await this.pool.query(
      `INSERT INTO ${this.s}.read_audit (ubrn, action, actor_id, organisation, business_function, request_id, correlation_id)
       VALUES ($1, 'A019', $2, $3, $4, $5, $6)`,
      [
        referral.ubrn,
        actor.userId,
        actor.organisation,
        actor.businessFunction,
        context.requestId,
        context.correlationId ?? null,
      ],
    );
    const found = await this.pds
      .getPatient({ nhsNumber: referral.patientNhsNumber }, context)
      .catch((error: unknown) => {
        if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
          throw invalid(`Patient ${referral.patientNhsNumber} is not known to PDS`, 'PATIENT_ERROR');
        }
        throw error;
      });
    const services = await this.pool.query<{ name: string; wait: number; bookable: boolean }>(
      `SELECT h.name, h.indicative_wait_days AS wait,
              (h.bookable_type = 'DIRECTLY_BOOKABLE' AND NOT h.triage) AS bookable
         FROM ${this.s}.referral_shortlist l JOIN ${this.s}.healthcare_service h ON h.id = l.service_id
        WHERE l.ubrn = $1 ORDER BY l.position`,
      [referral.ubrn],
    );
    const pdf = await renderPatientLetter({
      ubrn: referral.ubrn,
      accessCode: referral.accessCode,
      patient: patientOf(found.patient as unknown as Record<string, unknown>),
      services: services.rows.map((row) => ({ name: row.name, waitDays: row.wait, bookable: row.bookable })),
      bookingUrl: request.bookingUrl,
      date: new Date(),
    });
    return { pdf: pdf.toString('base64') };
  }
}
