import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { EReferralsClient, type FhirResource, shortlistParameter } from '@platform/contracts-ers';
import { PdsClient } from '@platform/contracts-pds';
import { NatsRpcClient, natsEndpointOptions, type CallContext } from '@platform/shared-nats';
import { e2eState, gatewaySigner, passwordToken, platformUp, type E2eState } from './support/platform';

const SCREENSHOTS = path.resolve(__dirname, '../../../tmp/screenshots');
const PATIENT = '9000000114';
const PRACTICE = 'A83008';
const PROVIDER = 'R69';

const gp = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-gp', username: 'clinician', roles: ['clinician'], organisation: PRACTICE },
});
const hospital = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-hospital', username: 'provider-clinician', roles: ['provider-clinician'], organisation: PROVIDER },
});

/** The text of pdfkit's content streams (inflated; hex and literal string operands decoded). */
function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const texts: string[] = [];
  const stream = /<<([\s\S]*?)>>\s*stream\r?\n/g;
  for (let match = stream.exec(source); match; match = stream.exec(source)) {
    const start = match.index + match[0].length;
    const raw = pdf.subarray(start, source.indexOf('endstream', start));
    let content = '';
    try {
      content = (match[1]?.includes('FlateDecode') ? inflateSync(raw) : raw).toString('latin1');
    } catch {
      continue;
    }
    for (const operand of content.matchAll(/<([0-9a-fA-F]+)>|\(((?:\\.|[^\\)])*)\)/g)) {
      texts.push(operand[1] ? Buffer.from(operand[1], 'hex').toString('latin1') : (operand[2] ?? ''));
    }
  }
  return texts.join('');
}

/** Presses Tab until the focused element matches, as a keyboard user moves through the page. */
async function tabTo(
  page: Page,
  matches: (element: { id: string; text: string; tag: string }) => boolean,
): Promise<void> {
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press('Tab');
    // The focused element, read in the page (the test's own compilation has no DOM types).
    const focused = await page.evaluate(() => {
      type Focused = { id?: string; textContent?: string | null; tagName?: string } | null;
      const element = (globalThis as unknown as { document: { activeElement: Focused } }).document.activeElement;
      return { id: element?.id ?? '', text: element?.textContent?.trim() ?? '', tag: element?.tagName ?? '' };
    });
    if (matches(focused)) return;
  }
  throw new Error('the element was not reached with the Tab key');
}

/**
 * A patient books their own hospital appointment in a real browser (Debian's Chromium, driven through
 * playwright-core, JavaScript switched off): the letter's details, one wrong attempt first, the shortlist
 * with distance and wait, a slot chosen and booked with the keyboard only.
 */
describe('e-RS patient page: a patient books with the letter in Chromium', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let db: Client;
  let browser: BrowserContext;
  let profile: string;
  let ubrn: string;
  let accessCode: string;
  let birthYear: string;
  let serviceName: string;

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    nats = await connect(natsEndpointOptions(state.natsUrl));
    const rpc = new NatsRpcClient(nats, { timeoutMs: 10_000, signer: gatewaySigner(state) });
    const ers = new EReferralsClient(rpc);
    const serviceId = String(8_000_000 + Math.floor(Math.random() * 900_000));
    serviceName = `E2E Cardiology ${serviceId}`;
    await ers.publishService(
      {
        resource: {
          resourceType: 'HealthcareService',
          id: serviceId,
          active: true,
          providedBy: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: PROVIDER } },
          name: serviceName,
          specialty: [{ coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' }] }],
          type: [
            { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', code: 'HEART_FAILURE' }] },
          ],
          characteristic: [
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType', code: 'BOOKABLE' }] },
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType', code: 'DIRECTLY_BOOKABLE' }] },
          ],
          extension: [
            { url: 'urn:nhs-platform:ers:location-postcode', valueString: 'LS1 2TW' },
            { url: 'urn:nhs-platform:ers:indicative-wait-days', valueUnsignedInt: 28 },
          ],
        },
      },
      hospital(),
    );
    const start = Date.now() + 2 * 24 * 3600_000;
    await ers.publishSlots(
      {
        resource: {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            {
              resource: {
                resourceType: 'Schedule',
                id: `${serviceId}-e2e`,
                actor: [{ reference: `HealthcareService/${serviceId}` }],
              },
            },
            ...[0, 1, 2].map((index) => ({
              resource: {
                resourceType: 'Slot',
                schedule: { reference: `Schedule/${serviceId}-e2e` },
                status: 'free',
                start: new Date(start + index * 3600_000).toISOString(),
                end: new Date(start + index * 3600_000 + 1800_000).toISOString(),
              },
            })),
          ],
        },
      },
      hospital(),
    );
    const referral: FhirResource = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: PATIENT } },
        shortlistParameter([serviceId], {
          priority: 'ROUTINE',
          specialty: 'CARDIOLOGY',
          postcode: 'LS1 6FR',
          ageAndGenderAppropriate: false,
        }),
      ],
    };
    const created = await ers.createReferral({ resource: referral, businessFunction: 'REFERRING_CLINICIAN' }, gp());
    ubrn = created.resource['id'] as string;
    db = new Client({ connectionString: state.databaseUrl });
    await db.connect();
    const schema = state.schemas['e-referrals'] ?? '';
    const row = await db.query<{ access_code: string }>(
      `SELECT access_code FROM "${schema}".referral WHERE ubrn = $1`,
      [ubrn],
    );
    accessCode = row.rows[0]?.access_code ?? '';
    const patient = await new PdsClient(rpc).getPatient({ nhsNumber: PATIENT }, gp());
    const birthDate: unknown = patient.patient.birthDate;
    birthYear = typeof birthDate === 'string' ? birthDate.slice(0, 4) : '';

    profile = mkdtempSync(path.join(tmpdir(), 'ers-patient-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      javaScriptEnabled: false,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await db?.end();
    await nats?.close();
  });

  it('signs in with the letter, sees the shortlist, and books a slot with the keyboard only', async () => {
    const page = await browser.newPage();
    await page.goto(`${state.gateway}/referrals/patient`);
    expect(await page.title()).toBe('Book or change your hospital appointment - Manage your referral - NHS');

    // One wrong password first: the error summary, the same page, nothing said about which detail was wrong.
    await tabTo(page, (element) => element.id === 'ubrn');
    await page.keyboard.type(ubrn);
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrongpassword');
    await page.keyboard.press('Tab');
    await page.keyboard.type(birthYear);
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.textContent('.nhsuk-error-summary')).toContain('The details you entered do not match');

    await tabTo(page, (element) => element.id === 'ubrn');
    await page.keyboard.type(ubrn);
    await page.keyboard.press('Tab');
    await page.keyboard.type(accessCode);
    await page.keyboard.press('Tab');
    await page.keyboard.type(birthYear);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/referrals\/patient\/referral$/);
    const [cookie] = (await browser.cookies()).filter((item) => item.name === 'ers_patient');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/referrals/patient' });
    const shortlist = await page.textContent('table');
    expect(shortlist).toContain(serviceName);
    expect(shortlist).toMatch(/\d+\.\d km/);
    expect(shortlist).toContain('4 weeks');

    await tabTo(page, (element) => element.tag === 'A' && element.text.startsWith('Choose appointment'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/slots$/);
    await tabTo(page, (element) => element.id === 'slot-1');
    await page.keyboard.press('Space');
    const chosen = await page.textContent('label[for="slot-1"]');
    await tabTo(page, (element) => element.tag === 'BUTTON' && element.text === 'Book this appointment');
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=booked$/);
    expect(await page.textContent('.nhsuk-panel')).toContain('Appointment booked');
    expect(await page.textContent('.nhsuk-panel')).toContain(chosen?.trim() ?? 'no slot label');

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'ers-patient-booked.png'), fullPage: true });

    const schema = state.schemas['e-referrals'] ?? '';
    const booked = await db.query<{ state: string }>(`SELECT state FROM "${schema}".referral WHERE ubrn = $1`, [ubrn]);
    expect(booked.rows[0]?.state).toBe('BOOKED');
  });

  it('changes the appointment (cancel with a reason, then choose again) and then cancels it, with the keyboard', async () => {
    const page = await browser.newPage();
    const schema = state.schemas['e-referrals'] ?? '';
    const stateNow = async (): Promise<string | undefined> =>
      (await db.query<{ state: string }>(`SELECT state FROM "${schema}".referral WHERE ubrn = $1`, [ubrn])).rows[0]
        ?.state;
    await page.goto(`${state.gateway}/referrals/patient/referral`);
    await tabTo(page, (element) => element.tag === 'A' && element.text === 'Change appointment');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/cancel\?intent=change$/);
    // Submitting without a reason: the error summary, nothing changed.
    await tabTo(page, (element) => element.tag === 'BUTTON' && element.text.startsWith('Cancel and choose'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/error=reason/);
    expect(await page.textContent('.nhsuk-error-summary')).toContain('Choose a reason');
    expect(await stateNow()).toBe('BOOKED');
    await tabTo(page, (element) => element.id === 'reason-1');
    await page.keyboard.press('Space');
    await tabTo(page, (element) => element.tag === 'BUTTON' && element.text.startsWith('Cancel and choose'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=change$/);
    expect(await stateNow()).toBe('APPT_CANCELLED_BY_PATIENT');

    await tabTo(page, (element) => element.tag === 'A' && element.text.startsWith('Choose appointment'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/slots$/);
    // Radios are one Tab stop; the arrow keys move between them (and choose).
    await tabTo(page, (element) => element.id === 'slot-1');
    await page.keyboard.press('ArrowDown');
    expect(await page.isChecked('#slot-2')).toBe(true);
    await tabTo(page, (element) => element.tag === 'BUTTON' && element.text === 'Book this appointment');
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=booked$/);
    expect(await stateNow()).toBe('BOOKED');

    await tabTo(page, (element) => element.tag === 'A' && element.text === 'Cancel appointment');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/cancel$/);
    await tabTo(page, (element) => element.id === 'reason-1');
    await page.keyboard.press('ArrowDown');
    expect(await page.isChecked('#reason-2')).toBe(true);
    await tabTo(page, (element) => element.tag === 'BUTTON' && element.text === 'Cancel appointment');
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=cancelled$/);
    expect(await page.textContent('main')).toContain('Your appointment has been cancelled.');
    expect(await stateNow()).toBe('APPT_CANCELLED_BY_PATIENT');
  });

  it('A019: the GP prints the patient letter through the gateway, a PDF with the booking reference', async () => {
    const letter = `${state.gateway}/referrals/FHIR/STU3/ReferralRequest/${ubrn}/$ers.generatePatientLetter`;
    const headers = (token: string): Record<string, string> => ({
      authorization: `Bearer ${token}`,
      'x-request-id': randomUUID(),
      'nhsd-ers-business-function': 'REFERRING_CLINICIAN',
    });
    const answer = await fetch(letter, {
      method: 'POST',
      headers: headers(await passwordToken(state.issuer, 'clinician')),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await answer.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain(`Booking reference number: ${ubrn.replace(/(.{4})(?=.)/g, '$1 ')}`);
    expect(text).toContain(`${state.gateway}/referrals/patient`);
    // A hospital clinician is not on the referring side: refused with an OperationOutcome.
    const refused = await fetch(letter, {
      method: 'POST',
      headers: headers(await passwordToken(state.issuer, 'provider-clinician')),
    });
    expect(refused.status).toBe(403);
  });

  it('plays the attacker at the page: a forged session, a form without its CSRF token, a JSON body', async () => {
    const schema = state.schemas['e-referrals'] ?? '';
    const version = async (): Promise<number | undefined> =>
      (await db.query<{ version: number }>(`SELECT version FROM "${schema}".referral WHERE ubrn = $1`, [ubrn])).rows[0]
        ?.version;
    const before = await version();
    const [cookie] = (await browser.cookies()).filter((item) => item.name === 'ers_patient');
    const post = (cookieValue: string, form: Record<string, string>, type = 'application/x-www-form-urlencoded') =>
      fetch(`${state.gateway}/referrals/patient/cancel`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': type, cookie: `ers_patient=${cookieValue}` },
        body: type.includes('json') ? JSON.stringify(form) : new URLSearchParams(form).toString(),
      });
    const form = { reason: 'PATIENT_ILL', appointmentId: '1', appointmentVersion: '1', csrf: 'guessed' };
    // A forged session and a real session without its form's CSRF token: back to the start, nothing changed.
    for (const answer of [await post('forged-session-token', form), await post(cookie?.value ?? '', form)]) {
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe('/referrals/patient?problem=ended');
    }
    expect((await post(cookie?.value ?? '', form, 'application/json')).status).toBe(415);
    expect(await version()).toBe(before);
    const page = await fetch(`${state.gateway}/referrals/patient`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
  });
});
