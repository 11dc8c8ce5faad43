import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ChangeRequest, ERS_SUBJECTS, ReadRequest, ResourceRequest, type FhirReply } from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { AdviceUseCase } from './advice.usecase';

/** Advice and Guidance: A044, A023, A024, A025, A026, A027. */
@Controller()
export class AdviceHandler {
  constructor(private readonly advice: AdviceUseCase) {}

  @MessagePattern(ERS_SUBJECTS.adviceCreate)
  create(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.create(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.adviceWorklist)
  worklist(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.worklist(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.adviceGet)
  get(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.get(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.adviceConversation)
  conversation(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.conversation(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.adviceRespond)
  respond(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.respond(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.adviceConvert)
  convert(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.advice.convert(request, call));
  }
}
