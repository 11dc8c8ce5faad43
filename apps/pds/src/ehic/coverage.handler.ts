import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  GetCoverageRequest,
  PDS_SUBJECTS,
  UpdateCoverageRequest,
  type CoverageReply,
} from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { GetCoverageUseCase, UpdateCoverageUseCase } from './coverage.usecases';

@Controller()
export class CoverageHandler {
  constructor(
    private readonly getCoverage: GetCoverageUseCase,
    private readonly updateCoverage: UpdateCoverageUseCase,
  ) {}

  @MessagePattern(PDS_SUBJECTS.coverageGet)
  get(@Payload() request: GetCoverageRequest, @Ctx() nats: NatsContext): Promise<CoverageReply> {
    return withCallContext(nats, (call) => this.getCoverage.execute(request, call));
  }

  @MessagePattern(PDS_SUBJECTS.coverageUpdate)
  update(@Payload() request: UpdateCoverageRequest, @Ctx() nats: NatsContext): Promise<CoverageReply> {
    return withCallContext(nats, (call) => this.updateCoverage.execute(request, call));
  }
}
