import { isValidNhsNumber, isWellFormedOdsCode } from '@platform/shared-identifiers';
import {
  identifierValue,
  resolve,
  resourcesOf,
  SYSTEMS,
  type Bundle,
  type Identifier,
  type Reference,
  type Resource,
} from '../shared/fhir';
import { messageEvent } from '../shared/message-event';
import { checkedShortFormId, invalid, missing } from '../shared/outcomes';

export const MAX_ITEMS = 4;
const INTENTS = ['order', 'original-order', 'instance-order'];

export type CourseOfTherapy = 'acute' | 'continuous' | 'continuous-repeat-dispensing';

/** What EPS keeps of a prescription-order Bundle beside the Bundle itself. */
export interface PrescriptionOrder {
  shortFormId: string;
  longFormId: string;
  patientNhsNumber: string;
  prescriber: { sdsUserId: string; roleProfileId: string | null; odsCode: string };
  /** The nominated pharmacy's ODS code; null when the patient takes a token to any pharmacy. */
  nominatedPharmacy: string | null;
  courseOfTherapy: CourseOfTherapy;
  itemIds: string[];
  /** eRD: how many issues the authorisation allows (1 otherwise). */
  repeatsAllowed: number;
  validityStart: string | null;
  validityEnd: string | null;
}

interface MedicationRequest extends Resource {
  identifier?: Identifier[];
  status?: string;
  intent?: string;
  groupIdentifier?: Identifier;
  courseOfTherapyType?: { coding?: { code?: string }[] };
  subject?: Reference;
  requester?: Reference;
  dispenseRequest?: {
    performer?: Reference;
    validityPeriod?: { start?: string; end?: string };
    numberOfRepeatsAllowed?: number;
  };
}

/** One value shared by every item, or the error naming the field that differs. */
function shared<T>(
  items: MedicationRequest[],
  pick: (item: MedicationRequest) => T,
  what: string,
  expression: string,
): T {
  const values = items.map((item) => JSON.stringify(pick(item) ?? null));
  if (new Set(values).size > 1) throw invalid(`${what} must be the same for all MedicationRequests`, expression);
  return pick(items[0]);
}

/**
 * Reads a prescription-order Bundle and checks the NHS rules: at most four items, each active with an
 * order intent, all sharing one prescription (short-form ID with its MOD 37-2 check character, and long-form
 * ID), course of therapy (or a mix of acute and continuous), patient, prescriber, nominated pharmacy and
 * validity. Every refusal carries the NHS code and the FHIRPath of the element at fault.
 */
export function readPrescriptionOrder(bundle: Bundle): PrescriptionOrder {
  if (messageEvent(bundle) !== 'prescription-order') {
    throw invalid("MessageHeader.eventCoding must be 'prescription-order'", 'MessageHeader.eventCoding');
  }
  const items = resourcesOf<MedicationRequest>(bundle, 'MedicationRequest');
  if (items.length === 0) throw missing('The Bundle must contain at least one MedicationRequest');
  if (items.length > MAX_ITEMS) {
    throw invalid(
      `Bundle contains ${items.length} MedicationRequests; a prescription has at most ${MAX_ITEMS}`,
      'Bundle.entry',
    );
  }
  for (const item of items) {
    if (!INTENTS.includes(item.intent ?? '')) {
      throw invalid(
        'MedicationRequest.intent must be order, original-order or instance-order.',
        'Bundle.entry.resource.ofType(MedicationRequest).intent',
      );
    }
    if (item.status !== 'active') {
      throw invalid(
        "MedicationRequest.status must be 'active' on a new prescription",
        'Bundle.entry.resource.ofType(MedicationRequest).status',
      );
    }
  }
  const shortFormId = shared(
    items,
    (item) => item.groupIdentifier?.value,
    'MedicationRequest.groupIdentifier',
    'MedicationRequest.groupIdentifier',
  );
  if (typeof shortFormId !== 'string')
    throw missing('MedicationRequest.groupIdentifier.value (the prescription ID) is missing');
  checkedShortFormId(shortFormId, 'MedicationRequest.groupIdentifier.value');
  const longFormId = shared(
    items,
    (item) =>
      item.groupIdentifier?.extension?.find((extension) => extension.url === SYSTEMS.prescriptionIdExtension)
        ?.valueIdentifier?.value,
    'The long-form prescription ID',
    'MedicationRequest.groupIdentifier.extension',
  );
  if (typeof longFormId !== 'string')
    throw missing('The long-form prescription ID (Extension-DM-PrescriptionId) is missing');

  const courses = [...new Set(items.map((item) => item.courseOfTherapyType?.coding?.[0]?.code ?? ''))];
  const mixOk = courses.length === 2 && courses.includes('acute') && courses.includes('continuous');
  if (courses.length > 1 && !mixOk) {
    throw invalid(
      "Course of therapy type must either match for all MedicationRequests or be a mixture of 'acute' and 'continuous'.",
      'MedicationRequest.courseOfTherapyType.coding',
    );
  }
  const course = (courses.length > 1 ? 'continuous' : courses[0]) as CourseOfTherapy;
  if (!['acute', 'continuous', 'continuous-repeat-dispensing'].includes(course)) {
    throw invalid(
      'MedicationRequest.courseOfTherapyType must be acute, continuous or continuous-repeat-dispensing',
      'MedicationRequest.courseOfTherapyType.coding',
    );
  }

  const subject = shared(
    items,
    (item) => item.subject?.reference,
    'MedicationRequest.subject',
    'MedicationRequest.subject',
  );
  const patient = resolve(bundle, { reference: subject });
  const nhsNumber = identifierValue(patient, SYSTEMS.nhsNumber);
  if (!nhsNumber) throw missing('The Patient (MedicationRequest.subject) has no NHS number');
  if (!isValidNhsNumber(nhsNumber)) throw invalid(`Patient NHS number ${nhsNumber} is invalid`, 'Patient.identifier');

  const requester = shared(
    items,
    (item) => item.requester?.reference,
    'MedicationRequest.requester',
    'MedicationRequest.requester',
  );
  const role = resolve(bundle, { reference: requester });
  const practitioner = resolve(bundle, role?.['practitioner'] as Reference | undefined);
  const organisation = resolve(bundle, role?.['organization'] as Reference | undefined);
  const sdsUserId = identifierValue(practitioner, SYSTEMS.sdsUserId);
  const odsCode = identifierValue(organisation, SYSTEMS.odsCode);
  if (!sdsUserId) throw missing('The prescriber (PractitionerRole.practitioner) has no SDS user ID');
  if (!odsCode || !isWellFormedOdsCode(odsCode)) throw missing("The prescriber's organisation has no valid ODS code");

  const performer = shared(
    items,
    (item) => item.dispenseRequest?.performer?.identifier?.value ?? null,
    'MedicationRequest.dispenseRequest.performer (the nominated pharmacy)',
    'MedicationRequest.dispenseRequest.performer',
  );
  if (performer !== null && !isWellFormedOdsCode(performer)) {
    throw invalid(
      `Nominated pharmacy '${String(performer).slice(0, 16)}' is not an ODS code`,
      'MedicationRequest.dispenseRequest.performer',
    );
  }
  const validity = shared(
    items,
    (item) => item.dispenseRequest?.validityPeriod ?? null,
    'MedicationRequest.dispenseRequest.validityPeriod',
    'MedicationRequest.dispenseRequest.validityPeriod',
  );
  const repeats = shared(
    items,
    (item) => item.dispenseRequest?.numberOfRepeatsAllowed ?? null,
    'MedicationRequest.dispenseRequest.numberOfRepeatsAllowed',
    'MedicationRequest.dispenseRequest.numberOfRepeatsAllowed',
  );

  return {
    shortFormId,
    longFormId,
    patientNhsNumber: nhsNumber,
    prescriber: { sdsUserId, roleProfileId: identifierValue(role, SYSTEMS.sdsRoleProfileId) ?? null, odsCode },
    nominatedPharmacy: performer,
    courseOfTherapy: course,
    itemIds: items.map((item) => item.identifier?.[0]?.value ?? item.id ?? ''),
    repeatsAllowed: course === 'continuous-repeat-dispensing' ? (typeof repeats === 'number' ? repeats + 1 : 1) : 1,
    validityStart: validity?.start ?? null,
    validityEnd: validity?.end ?? null,
  };
}
