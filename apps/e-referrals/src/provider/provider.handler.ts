import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ChangeRequest, ERS_SUBJECTS, QueryRequest, type FhirReply } from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { CancelAppointmentActionLaterUseCase } from '../referrals/referral-lifecycle.usecase';
import { PractitionersUseCase } from './practitioners.usecase';

/** The provider's subjects beyond the core referral journey: A040 and A022. */
@Controller()
export class ProviderHandler {
  constructor(
    private readonly practitioners: PractitionersUseCase,
    private readonly actionLater: CancelAppointmentActionLaterUseCase,
  ) {}

  @MessagePattern(ERS_SUBJECTS.practitionersOnBehalfOf)
  onBehalfOf(@Payload() request: QueryRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.practitioners.onBehalfOf(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.cancelAppointmentActionLater)
  cancelAppointmentActionLater(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.actionLater.execute(request, call));
  }
}
