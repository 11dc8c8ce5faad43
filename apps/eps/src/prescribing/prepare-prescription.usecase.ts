import { Injectable } from '@nestjs/common';
import type { FhirResource } from '@platform/contracts-eps';
import type { CallContext } from '@platform/shared-nats';
import type { Bundle } from '../shared/fhir';
import { prepareParameters } from '../signing/digest';
import { PrescriptionParties } from './prescription-parties';
import { readPrescriptionOrder } from './prescription-order';

/**
 * `$prepare`: the NHS bundle rules and the parties checked as for the order itself; the answer is the digest
 * the prescriber signs.
 */
@Injectable()
export class PreparePrescriptionUseCase {
  constructor(private readonly parties: PrescriptionParties) {}

  async execute(bundle: Bundle, context: CallContext): Promise<FhirResource> {
    const order = readPrescriptionOrder(bundle);
    await this.parties.check(order, context);
    return prepareParameters(bundle, new Date());
  }
}
