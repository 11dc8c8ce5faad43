import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ERS_SUBJECTS, PatientLetterRequest, type PatientLetterReply } from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { PatientLetterUseCase } from './patient-letter.usecase';

/** Letters: A019 the patient letter. */
@Controller()
export class LettersHandler {
  constructor(private readonly patientLetter: PatientLetterUseCase) {}

  @MessagePattern(ERS_SUBJECTS.patientLetter)
  letter(@Payload() request: PatientLetterRequest, @Ctx() nats: NatsContext): Promise<PatientLetterReply> {
    return withCallContext(nats, (call) => this.patientLetter.execute(request, call));
  }
}
