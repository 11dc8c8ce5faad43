import { readFileSync } from 'node:fs';
import path from 'node:path';

const MESSAGING_DOC = path.resolve(__dirname, '../../../../docs/messaging.md');

/**
 * The NATS subjects `docs/messaging.md` names for one service, each written out whole in backquotes
 * (`pds.patient.get.v1`), sorted and without repeats. Contract tests compare them with the contract's
 * constants, so the page that tells a newcomer where a subject goes cannot drift from the code.
 */
export function documentedSubjects(service: string): string[] {
  const text = readFileSync(MESSAGING_DOC, 'utf8');
  const found = new Set<string>();
  for (const match of text.matchAll(/`([a-z0-9-]+(?:\.[a-z0-9-]+)+\.v[0-9]+)`/g)) {
    if (match[1].startsWith(`${service}.`)) found.add(match[1]);
  }
  return [...found].sort();
}
