/**
 * The searches the NHS PDS sandbox has an example answer for: the rows of the specification's "Sandbox
 * test scenarios" table for patient search (components/paths/patient-search.yaml) and the NHS sandbox's
 * other published search sets, whose patients sandbox mode stores. In sandbox mode a valid search that is
 * none of these is answered HTTP 200 with a warning, as the NHS sandbox does.
 *
 * Each is answered by the real search over the stored sandbox patients; `answer`, where given, is the
 * search whose real answer is the NHS sandbox's for that example, with the reason (the table and the data
 * disagree there, and sandbox mode follows the table).
 */
interface SearchExample {
  query: string;
  answer?: string;
  why?: string;
}

const JANE_SMITH_CONTACTS = 'email=jane.smith@example.com&phone=01632960587';

const EXAMPLES: SearchExample[] = [
  { query: `family=Smith&gender=female&birthdate=eq2010-10-22&${JANE_SMITH_CONTACTS}` },
  { query: 'family=Smith&gender=female&birthdate=eq2010-10-22&email=deb.trotter@example.com&phone=0121111111' },
  {
    query: 'family=Sm*&gender=female&birthdate=eq2010-10-22',
    answer: 'family=Sm*&gender=female&birthdate=eq2010-10-22&general-practitioner=Y12345',
    why: 'the table says two results (Jane Smith and Jayne Smyth, as the NHS sandbox answers); the restricted Janet Smythe is a third female Sm* born that day, and a search naming a GP practice never returns a restricted patient',
  },
  // With or without `_max-results=1` (the "limited results" row): `_max-results` is not part of the example.
  { query: `family=Sm*&gender=female&birthdate=eq2010-10-22&${JANE_SMITH_CONTACTS}` },
  { query: `family=Smith&gender=female&birthdate=ge2010-10-21&birthdate=le2010-10-23&${JANE_SMITH_CONTACTS}` },
  { query: `family=Smith&given=Jane&gender=female&birthdate=eq2010-10-22&${JANE_SMITH_CONTACTS}&_fuzzy-match=true` },
  {
    query: 'family=Smith&given=Jane&gender=female&birthdate=eq2010-10-22&_fuzzy-match=true',
    answer: 'family=Smyth&given=Jayne&gender=female&birthdate=eq2010-10-22',
    why: 'the table says a single result and the NHS sandbox answers Jayne Smyth (9000000017) alone; a real fuzzy search also finds Jane Smith (9000000009)',
  },
  {
    query:
      'family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16&email=janet.smythe@example.com&phone=01632960587',
    answer:
      'family=Smythe&given=Janet&gender=female&birthdate=eq2010-10-22&email=janet.smythe@example.com&phone=01632960587',
    why: "the table's birth date (2005-06-16) is not the published restricted record's (2010-10-22); the NHS sandbox answers that record",
  },
  {
    query:
      'family=Smith&given=John Paul&given=James&gender=male&birthdate=eq2010-10-22&email=johnp.smith@example.com&phone=01632960587',
  },
  // The NHS sandbox's simple searches for Jane Smith.
  { query: 'family=Smith&gender=female&birthdate=eq2010-10-22' },
  { query: 'family=Smith&birthdate=eq2010-10-22' },
  { query: 'family=Smith&gender=female&birthdate=ge2010-10-21&birthdate=le2010-10-23' },
  // The NHS's published search sets (src/sandbox/data/search_*_searchset.json).
  { query: 'family=KNAPP&given=Kathy&birthdate=eq1943-07-03&_exact-match=true' },
  { query: 'family=CUFF&gender=female&birthdate=eq1926-01-07' },
  { query: 'family=YOUDS&birthdate=eq1970-01-24' },
  {
    query: 'family=Smythe&given=Mat&gender=male&birthdate=ge2000-05-03&address-postalcode=DN17 4AA&_fuzzy-match=true',
  },
];

/** Parameters that do not tell one example from another: the result limit and flags at their defaults. */
const IGNORED = new Set(['_max-results', '_fuzzy-match=false', '_exact-match=false', '_history=false']);

/** A query as a comparable key: names and values in lower case, dates without `eq`, in a fixed order. */
export function exampleKey(query: string): string {
  return [...new URLSearchParams(query)]
    .map(([name, value]) => {
      const lower = value.trim().toLowerCase();
      const plain = (name === 'birthdate' || name === 'death-date') && lower.startsWith('eq') ? lower.slice(2) : lower;
      return `${name.toLowerCase()}=${plain}`;
    })
    .filter((pair) => !IGNORED.has(pair) && !pair.startsWith('_max-results='))
    .sort()
    .join('&');
}

const BY_KEY = new Map(EXAMPLES.map((example) => [exampleKey(example.query), example]));

/**
 * The search to run for a sandbox search: the example's own query (with the caller's `_max-results`) or its
 * answer; undefined when the sandbox has no example for it.
 */
export function sandboxSearch(query: string): string | undefined {
  const example = BY_KEY.get(exampleKey(query));
  if (!example) return undefined;
  if (example.answer === undefined) return query;
  const limit = new URLSearchParams(query).get('_max-results');
  return limit === null ? example.answer : `${example.answer}&_max-results=${encodeURIComponent(limit)}`;
}
