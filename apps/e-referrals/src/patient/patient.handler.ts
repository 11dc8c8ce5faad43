import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  ERS_SUBJECTS,
  PatientBookRequest,
  PatientCancelRequest,
  PatientConfirmRequest,
  PatientFormRequest,
  PatientSessionRequest,
  PatientSignInRequest,
  PatientSlotsRequest,
  type PatientAppointment,
  type PatientConfirmReply,
  type PatientSignInReply,
  type PatientSlots,
  type PatientView,
} from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { PatientBookingUseCase } from './patient-booking.usecase';

/** The patient page's subjects (the gateway signs them as patient-web; the session decides the rest). */
@Controller()
export class PatientHandler {
  constructor(private readonly patients: PatientBookingUseCase) {}

  @MessagePattern(ERS_SUBJECTS.patientSignIn)
  signIn(@Payload() request: PatientSignInRequest, @Ctx() nats: NatsContext): Promise<PatientSignInReply> {
    return withCallContext(nats, () => this.patients.signIn(request));
  }

  @MessagePattern(ERS_SUBJECTS.patientConfirm)
  confirm(@Payload() request: PatientConfirmRequest, @Ctx() nats: NatsContext): Promise<PatientConfirmReply> {
    return withCallContext(nats, () => this.patients.confirm(request));
  }

  @MessagePattern(ERS_SUBJECTS.patientView)
  view(@Payload() request: PatientSessionRequest, @Ctx() nats: NatsContext): Promise<PatientView> {
    return withCallContext(nats, (call) => this.patients.view(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.patientSlots)
  slots(@Payload() request: PatientSlotsRequest, @Ctx() nats: NatsContext): Promise<PatientSlots> {
    return withCallContext(nats, (call) => this.patients.slots(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.patientBook)
  book(@Payload() request: PatientBookRequest, @Ctx() nats: NatsContext): Promise<PatientAppointment> {
    return withCallContext(nats, (call) => this.patients.book(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.patientCancel)
  cancel(@Payload() request: PatientCancelRequest, @Ctx() nats: NatsContext): Promise<{ cancelled: true }> {
    return withCallContext(nats, (call) => this.patients.cancel(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.patientSignOut)
  signOut(@Payload() request: PatientFormRequest, @Ctx() nats: NatsContext): Promise<{ signedOut: true }> {
    return withCallContext(nats, () => this.patients.signOut(request));
  }
}
