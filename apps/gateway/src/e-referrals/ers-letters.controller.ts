import { Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ERS_REFERRERS, type PatientLettersClient } from '@platform/contracts-ers';
import { FhirRoute } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { ErsCaller } from './ers-call';
import { ON_BEHALF_OF_API_HEADER } from './ers-http';
import { PATIENT_BASE } from './patient-pages';

export const PATIENT_LETTERS_CLIENT = Symbol('PATIENT_LETTERS_CLIENT');

@ApiTags('e-Referral Service (FHIR STU3 and R4, as the NHS e-RS API)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID' })
@ApiHeader({
  name: 'NHSD-eRS-Business-Function',
  required: true,
  description: 'REFERRING_CLINICIAN, REFERRING_CLINICIAN_ADMIN, REFERRING_ADMIN',
})
@ApiHeader(ON_BEHALF_OF_API_HEADER)
@Controller('referrals/FHIR')
export class ErsLettersController {
  constructor(
    @Inject(PATIENT_LETTERS_CLIENT) private readonly letters: PatientLettersClient,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Post('STU3/ReferralRequest/:ubrn/$ers.generatePatientLetter')
  @HttpCode(200)
  @FhirRoute(ERS_REFERRERS)
  @ApiOperation({
    summary:
      "A019 the patient's letter (PDF): booking reference, password, the shortlist and how to book; no address for a restricted patient",
  })
  @ApiProduces('application/pdf')
  async patientLetter(
    @Param('ubrn') ubrn: string,
    @ErsCaller() caller: ErsCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const letter = await this.letters.patientLetter(
      {
        id: ubrn,
        bookingUrl: `${this.settings.publicUrl}${PATIENT_BASE}`,
        ...caller.acting,
      },
      caller.context,
    );
    void reply
      .status(200)
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', `inline; filename="patient-letter-${ubrn.replace(/[^0-9]/g, '')}.pdf"`)
      .header('Cache-Control', 'no-store')
      .send(Buffer.from(letter.pdf, 'base64'));
  }
}
