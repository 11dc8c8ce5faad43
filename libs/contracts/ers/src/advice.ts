import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import { ChangeRequest, ReadRequest, ResourceRequest, type FhirReply } from './payloads';
import { ERS_SUBJECTS } from './subjects';

/** Advice and Guidance (A044, A023, A024, A025, A026, A027): FHIR in, FHIR out. */
export class AdviceClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  create(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceCreate, ResourceRequest, request, context);
  }
  worklist(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceWorklist, ResourceRequest, request, context);
  }
  get(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceGet, ReadRequest, request, context);
  }
  conversation(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceConversation, ReadRequest, request, context);
  }
  respond(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceRespond, ChangeRequest, request, context);
  }
  convert(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated(ERS_SUBJECTS.adviceConvert, ChangeRequest, request, context);
  }
}
