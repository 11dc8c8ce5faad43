import type { Patient } from '@platform/contracts-pds';
import {
  between,
  chance,
  generateNhsNumber,
  seededRandom,
  Weighted,
  type RandomSource,
} from '@platform/shared-identifiers';
import { normalisedResource } from '../patients/patient-record';
import { eraOf, givenNameWeights, surnameWeights, type Sex } from './names';
import { POSTCODE_AREAS, STREET_NAMES, STREET_TYPES, UNIT_LETTERS, type PostcodeArea } from './places';

/** A generated record, ready to store: the resource is normalised (id, meta.versionId, meta.security). */
export interface GeneratedPatient {
  nhsNumber: string;
  version: number;
  resource: Patient;
  restricted: boolean;
  supersededBy: string | null;
}

/** Shares of the population with each property (the NHS's own proportions are of this order). */
export interface PopulationShares {
  restricted: number;
  deceased: number;
  /** Duplicate records merged into another one: stored with `superseded_by`. */
  superseded: number;
  previousName: number;
  previousAddress: number;
  phone: number;
  email: number;
}

export const DEFAULT_SHARES: PopulationShares = {
  restricted: 0.005,
  deceased: 0.01,
  superseded: 0.002,
  previousName: 0.1,
  previousAddress: 0.2,
  phone: 0.85,
  email: 0.5,
};

/**
 * Every generated NHS number starts with one of these: valid check digits, clear of the NHS sandbox's
 * numbers (9000000009 and friends) and of the range POST /Patient allocates (96...), and easy to recognise.
 * Each prefix holds about 9.09 million valid numbers, so two make room for the 10 million stretch.
 */
export const GENERATED_NHS_NUMBER_PREFIXES = ['99', '98'] as const;

/** Dates are relative to a fixed day, so a seed gives the same population whenever it is generated. */
const REFERENCE_YEAR = 2025;
const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const REGION_LETTERS = 'ABCDEFGHJKLMNPY';

/** Relative number of people of each age (0..104), shaped like the population of England and Wales. */
function ageWeights(): [number, number][] {
  const weights: [number, number][] = [];
  for (let age = 0; age <= 104; age += 1) {
    let weight: number;
    if (age < 20) weight = 1.15;
    else if (age < 30) weight = 1.3;
    else if (age < 40) weight = 1.35;
    else if (age < 50) weight = 1.25;
    else if (age < 60) weight = 1.35;
    else if (age < 70) weight = 1.1;
    else if (age < 80) weight = 0.9;
    else if (age < 90) weight = 0.45;
    else if (age < 100) weight = 0.12;
    else weight = 0.01;
    weights.push([age, weight]);
  }
  return weights;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** A date in `year` (day 0..364; leap days are simply never drawn). */
function dateIn(year: number, dayOfYear: number): string {
  let month = 11;
  while (month > 0 && (DAYS_BEFORE_MONTH[month] ?? 0) > dayOfYear) month -= 1;
  return `${year}-${pad(month + 1, 2)}-${pad(dayOfYear - (DAYS_BEFORE_MONTH[month] ?? 0) + 1, 2)}`;
}

function randomDate(random: RandomSource, fromYear: number, toYear: number): string {
  return dateIn(between(random, fromYear, toYear), between(random, 0, 364));
}

function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** The day before a date, for the end of a previous name or address. */
function dayBefore(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

interface Place {
  area: PostcodeArea;
  areaIndex: number;
  district: number;
}

/**
 * A deterministic synthetic population: the same seed always gives the same patients in the same order.
 * Names follow UK frequencies by decade of birth, postcodes the population of each postcode area, ages a
 * population pyramid; NHS numbers are valid, unique and start with one of GENERATED_NHS_NUMBER_PREFIXES.
 */
export class PopulationGenerator {
  private readonly random: RandomSource;
  private readonly used = new Set<number>();
  private readonly surnames = new Weighted(surnameWeights());
  private readonly given = {
    male: [0, 1, 2].map((era) => new Weighted(givenNameWeights('male', era as 0 | 1 | 2))),
    female: [0, 1, 2].map((era) => new Weighted(givenNameWeights('female', era as 0 | 1 | 2))),
  };
  private readonly ages = new Weighted(ageWeights());
  private readonly areas = new Weighted(POSTCODE_AREAS.map((area, index) => [index, area.weight] as const));
  private readonly genders = new Weighted<string>([
    ['female', 50.4],
    ['male', 49],
    ['unknown', 0.4],
    ['other', 0.2],
  ]);
  private pendingDuplicate: GeneratedPatient | undefined;
  private ids = 0;

  constructor(
    seed: number,
    private readonly shares: PopulationShares = DEFAULT_SHARES,
  ) {
    this.random = seededRandom(seed);
  }

  /** The next record (a superseded duplicate follows the record it was merged into). */
  next(): GeneratedPatient {
    const duplicate = this.pendingDuplicate;
    if (duplicate) {
      this.pendingDuplicate = undefined;
      return duplicate;
    }
    const patient = this.person();
    if (chance(this.random, this.shares.superseded)) this.pendingDuplicate = this.duplicateOf(patient);
    return patient;
  }

  private nhsNumber(): string {
    for (;;) {
      const prefix = GENERATED_NHS_NUMBER_PREFIXES[this.random() < 0.5 ? 0 : 1];
      const candidate = generateNhsNumber(this.random, prefix);
      const key = Number(candidate);
      if (!this.used.has(key)) {
        this.used.add(key);
        return candidate;
      }
    }
  }

  private id(): string {
    this.ids += 1;
    return this.ids.toString(36).toUpperCase();
  }

  private givenName(sex: Sex, birthYear: number, not?: string): string {
    const list = this.given[sex][eraOf(birthYear)];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const name = list.pick(this.random);
      if (name !== not) return name;
    }
    return list.pick(this.random);
  }

  private place(near?: Place): Place {
    const areaIndex = near && chance(this.random, 0.7) ? near.areaIndex : this.areas.pick(this.random);
    const area = POSTCODE_AREAS[areaIndex];
    return { area, areaIndex, district: between(this.random, 1, area.districts) };
  }

  private postcode(place: Place): string {
    const unit = `${UNIT_LETTERS.charAt(between(this.random, 0, 19))}${UNIT_LETTERS.charAt(between(this.random, 0, 19))}`;
    return `${place.area.area}${place.district} ${between(this.random, 0, 9)}${unit}`;
  }

  private address(place: Place, use: 'home' | 'old', start: string, end?: string): Record<string, unknown> {
    const street = `${between(this.random, 1, 199)} ${STREET_NAMES[between(this.random, 0, STREET_NAMES.length - 1)]} ${
      STREET_TYPES[between(this.random, 0, STREET_TYPES.length - 1)]
    }`;
    return {
      id: this.id(),
      use,
      period: end ? { start, end } : { start },
      line: [street, place.area.town, place.area.county],
      postalCode: this.postcode(place),
    };
  }

  private practice(place: Place): string {
    const letter = REGION_LETTERS.charAt(place.areaIndex % REGION_LETTERS.length);
    const number = (10000 + place.areaIndex * 700 + place.district * 23 + between(this.random, 0, 4)) % 100000;
    return `${letter}${pad(number, 5)}`;
  }

  private person(): GeneratedPatient {
    const random = this.random;
    const nhsNumber = this.nhsNumber();
    const gender = this.genders.pick(random);
    const sex: Sex = gender === 'male' || gender === 'female' ? gender : chance(random, 0.5) ? 'male' : 'female';
    const age = this.ages.pick(random);
    const birthDate = randomDate(random, REFERENCE_YEAR - age, REFERENCE_YEAR - age);
    const birthYear = yearOf(birthDate);
    const adult = age >= 18;
    const family = this.surnames.pick(random);
    const first = this.givenName(sex, birthYear);
    const given = chance(random, 0.55) ? [first, this.givenName(sex, birthYear, first)] : [first];

    const names: Record<string, unknown>[] = [];
    let nameStart = birthDate;
    // About four in five people are adults: the share of previous names is of everyone.
    if (adult && chance(random, this.shares.previousName / 0.8)) {
      // Mostly a maiden name; otherwise a change of name by deed poll.
      const changed = randomDate(
        random,
        Math.min(birthYear + 18, REFERENCE_YEAR),
        Math.min(birthYear + 45, REFERENCE_YEAR),
      );
      names.push({
        id: this.id(),
        use: 'old',
        period: { start: birthDate, end: dayBefore(changed) },
        given,
        family: this.surnames.pick(random),
      });
      nameStart = changed;
    }
    const married = names.length > 0 && sex === 'female';
    const prefix = !adult
      ? undefined
      : chance(random, 0.005)
        ? 'Dr'
        : sex === 'male'
          ? 'Mr'
          : married
            ? 'Mrs'
            : chance(random, 0.5)
              ? 'Ms'
              : 'Miss';
    names.unshift({
      id: this.id(),
      use: 'usual',
      period: { start: nameStart },
      given,
      family,
      ...(prefix ? { prefix: [prefix] } : {}),
    });

    const home = this.place();
    // Adults moved into their current home since they were 18, children since birth.
    const movedIn = randomDate(random, adult ? birthYear + 18 : birthYear, REFERENCE_YEAR);
    const addresses = [this.address(home, 'home', movedIn)];
    if (chance(random, this.shares.previousAddress) && yearOf(movedIn) > birthYear) {
      addresses.push(this.address(this.place(home), 'old', birthDate, dayBefore(movedIn)));
    }

    const telecom: Record<string, unknown>[] = [];
    if (chance(random, this.shares.phone)) {
      const mobile = chance(random, 0.7);
      telecom.push({
        id: this.id(),
        system: 'phone',
        use: mobile ? 'mobile' : 'home',
        value: `${mobile ? '07700900' : '01632960'}${pad(between(random, 0, 999), 3)}`,
      });
    }
    if (adult && chance(random, this.shares.email)) {
      const local = `${first}.${family}`.toLowerCase().replace(/[^a-z.]/g, '');
      telecom.push({
        id: this.id(),
        system: 'email',
        use: 'home',
        value: `${local}${between(random, 1, 999)}@example.com`,
      });
    }

    const resource: Patient = {
      resourceType: 'Patient',
      id: nhsNumber,
      meta: { versionId: '1' },
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }],
      name: names,
      gender,
      birthDate,
      address: addresses,
    };
    if (telecom.length > 0) resource['telecom'] = telecom;
    if (chance(random, 0.98)) {
      resource['generalPractitioner'] = [
        { id: this.id(), type: 'Organization', identifier: { system: ODS_SYSTEM, value: this.practice(home) } },
      ];
    }
    // Older people are likelier to have died; the share over the whole population stays near `deceased`.
    if (chance(random, Math.min(0.3, (this.shares.deceased * age) / 45))) {
      resource['deceasedDateTime'] =
        `${randomDate(random, Math.max(birthYear, REFERENCE_YEAR - 10), REFERENCE_YEAR)}T00:00:00+00:00`;
      resource['extension'] = [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
          extension: [
            {
              url: 'deathNotificationStatus',
              valueCodeableConcept: {
                coding: [
                  {
                    system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                    version: '1.0.0',
                    code: '2',
                    display: 'Formal - death notice received from Registrar of Deaths',
                  },
                ],
              },
            },
          ],
        },
      ];
    }
    return this.stored(
      nhsNumber,
      1 + Math.floor(random() * random() * 4),
      resource,
      chance(random, this.shares.restricted),
      null,
    );
  }

  /** A second record of the same person, merged into `survivor`: same demographics, its own NHS number. */
  private duplicateOf(survivor: GeneratedPatient): GeneratedPatient {
    const nhsNumber = this.nhsNumber();
    const { resourceType: _type, id: _id, meta: _meta, identifier: _identifier, ...demographics } = survivor.resource;
    const resource: Patient = {
      resourceType: 'Patient',
      id: nhsNumber,
      meta: { versionId: '1' },
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }],
      ...demographics,
    };
    return this.stored(nhsNumber, 1, resource, survivor.restricted, survivor.nhsNumber);
  }

  private stored(
    nhsNumber: string,
    version: number,
    resource: Patient,
    restricted: boolean,
    supersededBy: string | null,
  ): GeneratedPatient {
    return {
      nhsNumber,
      version,
      restricted,
      supersededBy,
      resource: normalisedResource({ nhsNumber, version, resource, restricted, supersededBy, invalidated: false }),
    };
  }
}
