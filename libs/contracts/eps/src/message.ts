/**
 * The event a FHIR message Bundle carries (its MessageHeader's eventCoding.code), or undefined when it has none:
 * what decides which operation a `$process-message` is.
 */
export function messageEventOf(bundle: unknown): string | undefined {
  const entries = (bundle as { entry?: unknown } | null)?.entry;
  if (!Array.isArray(entries)) return undefined;
  const header = (entries as { resource?: { resourceType?: unknown; eventCoding?: { code?: unknown } } }[]).find(
    (entry) => entry?.resource?.resourceType === 'MessageHeader',
  )?.resource;
  const code = header?.eventCoding?.code;
  return typeof code === 'string' ? code : undefined;
}
