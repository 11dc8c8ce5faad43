import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  ChangeRequest,
  ERS_SUBJECTS,
  QueryRequest,
  ReadRequest,
  ResourceRequest,
  type FhirReply,
} from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { DirectoryReadsUseCase } from '../directory/directory-reads.usecase';
import { PublishServiceUseCase } from '../directory/publish-service.usecase';
import { PublishSlotsUseCase } from '../directory/publish-slots.usecase';
import { CreateReferralUseCase } from './create-referral.usecase';
import {
  CancelAppointmentUseCase,
  CancelReferralUseCase,
  ChangeShortlistUseCase,
  ProviderDecisionUseCase,
} from './referral-lifecycle.usecase';
import { ReferralReadsUseCase } from './referral-reads.usecase';

/**
 * Every e-RS subject but the four served without Nest (`ErsDirectSubscriptions`: A008, A010, A015, A016): one
 * line each, validate (the payload class) and call its use case.
 */
@Controller()
export class ErsHandler {
  constructor(
    private readonly directoryReads: DirectoryReadsUseCase,
    private readonly publishService: PublishServiceUseCase,
    private readonly publishSlots: PublishSlotsUseCase,
    private readonly createReferral: CreateReferralUseCase,
    private readonly reads: ReferralReadsUseCase,
    private readonly cancelReferral: CancelReferralUseCase,
    private readonly cancelAppointment: CancelAppointmentUseCase,
    private readonly shortlist: ChangeShortlistUseCase,
    private readonly provider: ProviderDecisionUseCase,
  ) {}

  @MessagePattern(ERS_SUBJECTS.businessFunctionsGet)
  businessFunctions(@Payload() request: QueryRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => Promise.resolve(this.directoryReads.businessFunctions(request, call)));
  }

  @MessagePattern(ERS_SUBJECTS.codeSystemGet)
  codeSystem(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.directoryReads.codeSystem(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.servicePublish)
  servicePublish(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.publishService.execute(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.slotsPublish)
  slotsPublish(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.publishSlots.execute(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.serviceGet)
  serviceGet(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.directoryReads.service(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.serviceList)
  serviceList(@Payload() request: QueryRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.directoryReads.services(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.referralCreate)
  create(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.createReferral.execute(request, call, false));
  }

  @MessagePattern(ERS_SUBJECTS.referralCreateForTriage)
  createForTriage(@Payload() request: ResourceRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.createReferral.execute(request, call, true));
  }

  @MessagePattern(ERS_SUBJECTS.referralGet)
  referralGet(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.reads.referral(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.referralActions)
  actions(@Payload() request: QueryRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.reads.actions(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.shortlistChange)
  changeShortlist(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.shortlist.execute(request, call, false));
  }

  @MessagePattern(ERS_SUBJECTS.shortlistChangeForTriage)
  changeShortlistForTriage(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.shortlist.execute(request, call, true));
  }

  @MessagePattern(ERS_SUBJECTS.referralCancel)
  referralCancel(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.cancelReferral.execute(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.referralAccept)
  accept(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.provider.accept(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.referralReject)
  reject(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.provider.reject(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.reviewOutcome)
  reviewOutcome(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.provider.reviewOutcome(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.appointmentCancel)
  appointmentCancel(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.cancelAppointment.execute(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.appointmentGet)
  appointmentGet(@Payload() request: ReadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.reads.appointment(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.serviceRequestSearch)
  serviceRequests(@Payload() request: QueryRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.directoryReads.serviceRequests(request, call));
  }
}
