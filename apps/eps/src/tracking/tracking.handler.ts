import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { EPS_SUBJECTS, GetPrescriptionRequest, type PrescriptionTracking } from '@platform/contracts-eps';
import { withCallContext } from '@platform/shared-nats';
import { TrackPrescriptionUseCase } from './track-prescription.usecase';

@Controller()
export class TrackingHandler {
  constructor(private readonly trackPrescription: TrackPrescriptionUseCase) {}

  @MessagePattern(EPS_SUBJECTS.get)
  get(@Payload() request: GetPrescriptionRequest, @Ctx() nats: NatsContext): Promise<PrescriptionTracking> {
    return withCallContext(nats, (call) => this.trackPrescription.execute(request.shortFormId, call));
  }
}
