import { messageEventOf } from '@platform/contracts-eps';
import type { Bundle } from './fhir';
import { invalid, missing } from './outcomes';

/** The event a message Bundle carries (MessageHeader.eventCoding.code). */
export function messageEvent(bundle: unknown): string {
  const candidate = bundle as Bundle | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.resourceType !== 'Bundle') {
    throw invalid('The request body must be a FHIR Bundle of type message');
  }
  if (!Array.isArray(candidate.entry)) throw missing("ResourceType Bundle must contain 'entry' field");
  if (candidate.type !== 'message') throw invalid("Bundle.type must be 'message'", 'Bundle.type');
  const code = messageEventOf(candidate);
  if (code === undefined) throw missing('The Bundle must start with a MessageHeader naming its event');
  return code;
}
