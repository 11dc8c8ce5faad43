import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  applyDecorators,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  SetMetadata,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  PATIENT_CANCELLATION_REASONS,
  PATIENT_WEB_CALLER,
  type PatientBookingClient,
  type PatientCancellationReason,
} from '@platform/contracts-ers';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { RateLimiter } from '../auth/rate-limiter';
import { ROUTE_POLICY, type RoutePolicy } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { PDS_CLIENT } from '../pds/patient.controller';
import {
  cancelPage,
  PATIENT_BASE,
  problemPage,
  referralPage,
  slotsPage,
  startPage,
  STYLESHEET,
  type ReferralNotice,
  type StartProblem,
} from './patient-pages';

export const PATIENT_BOOKING_CLIENT = Symbol('PATIENT_BOOKING_CLIENT');

const COOKIE = 'ers_patient';
/** The sign-in form's CSRF token, also set as this cookie by the start page (double submit). */
const SIGN_IN_COOKIE = 'ers_patient_signin';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** Pages may not be framed, cached, or load anything but their own stylesheet; forms post only here. */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The patient page's routes: open without a token (the letter's codes are the credential, checked by
 * e-referrals), forms of at most 4 KiB. Not FHIR, and not in the OpenAPI document.
 */
const PatientRoute = (): MethodDecorator => {
  const policy: RoutePolicy = { fhir: false, public: true, roles: [], maxBodyBytes: 4096 };
  return applyDecorators(SetMetadata(ROUTE_POLICY, policy), RouteConfig({ policy }));
};

type Form = Record<string, string | undefined>;

function field(form: unknown, name: string): string {
  const value = typeof form === 'object' && form !== null ? (form as Form)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

function cookieOf(request: FastifyRequest, cookie = COOKIE): string {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === cookie) return rest.join('=').slice(0, 100);
  }
  return '';
}

/** Whether the sign-in form carries the token its start page set in the cookie (a cross-site post cannot). */
function signInTokenMatches(request: FastifyRequest, form: unknown): boolean {
  const cookie = Buffer.from(cookieOf(request, SIGN_IN_COOKIE));
  const posted = Buffer.from(field(form, 'csrf').slice(0, 100));
  return cookie.length >= 32 && cookie.length === posted.length && timingSafeEqual(cookie, posted);
}

/** The birth year and flags of a PDS Patient, read as the patient (restricted: any label but U). */
function factsOf(patient: Record<string, unknown>): { birthYear?: number; deceased: boolean; restricted: boolean } {
  const birthDate = typeof patient['birthDate'] === 'string' ? patient['birthDate'] : '';
  const year = /^(\d{4})/.exec(birthDate)?.[1];
  const deceased = patient['deceasedDateTime'] ?? patient['deceasedBoolean'];
  const security = (patient['meta'] as { security?: { code?: unknown }[] } | undefined)?.security ?? [];
  return {
    ...(year ? { birthYear: Number(year) } : {}),
    deceased: deceased !== undefined && deceased !== false,
    restricted: security.some((label) => label?.code !== 'U'),
  };
}

/**
 * Patients book themselves at `/referrals/patient`: server-rendered pages, forms that post and redirect
 * (POST-redirect-GET), no JavaScript. After the letter's codes and year of birth are checked the browser holds
 * an opaque session token in an HttpOnly, SameSite=Strict cookie; every form carries the session's CSRF token
 * and e-referrals checks both. The gateway calls e-referrals as `patient-web`, and reads PDS as the patient
 * whose NHS number the codes matched (for the year of birth, death and the restricted flag).
 */
@ApiExcludeController()
@Controller('referrals/patient')
export class PatientBookingController {
  /** Sign-in posts per address, on top of the per-UBRN lockout e-referrals keeps in PostgreSQL. */
  private readonly signIns = new RateLimiter({ rate: 0.5, burst: 10 });

  constructor(
    @Inject(PATIENT_BOOKING_CLIENT) private readonly patients: PatientBookingClient,
    @Inject(PDS_CLIENT) private readonly pds: PdsApi,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  private context(requestId?: string): CallContext {
    return {
      requestId: requestId && UUID.test(requestId) ? requestId : randomUUID(),
      caller: { id: PATIENT_WEB_CALLER.id, username: PATIENT_WEB_CALLER.username, roles: ['patient'] },
    };
  }

  private html(reply: FastifyReply, html: string, status = 200): void {
    void reply.status(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(html);
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).headers(SECURITY_HEADERS).header('Location', location).send();
  }

  private setSession(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
    const secure = this.settings.publicUrl.startsWith('https:') ? '; Secure' : '';
    void reply.header(
      'Set-Cookie',
      `${COOKIE}=${token}; Path=${PATIENT_BASE}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`,
    );
  }

  /** Runs a signed-in step; an ended session (or a forged one, or a foreign form) goes back to the start. */
  private async signedIn(reply: FastifyReply, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (error instanceof PlatformError && error.code === 'ACCESS_DENIED') {
        this.setSession(reply, '', 0);
        this.redirect(reply, `${PATIENT_BASE}?problem=ended`);
        return;
      }
      if (error instanceof PlatformError && error.code === 'INAPPROPRIATE_VALUE') {
        this.redirect(reply, `${PATIENT_BASE}/referral?notice=not-allowed`);
        return;
      }
      throw error;
    }
  }

  @Get('assets/style.css')
  @PatientRoute()
  stylesheet(@Res() reply: FastifyReply): void {
    void reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET);
  }

  /** The start page with a fresh sign-in CSRF token, also set in its cookie. */
  private startWithToken(reply: FastifyReply, problem?: StartProblem, notice?: 'signed-out', status = 200): void {
    const token = randomBytes(32).toString('base64url');
    const secure = this.settings.publicUrl.startsWith('https:') ? '; Secure' : '';
    void reply.header(
      'Set-Cookie',
      `${SIGN_IN_COOKIE}=${token}; Path=${PATIENT_BASE}; Max-Age=3600; HttpOnly; SameSite=Strict${secure}`,
    );
    this.html(reply, startPage(problem, notice, token), status);
  }

  @Get()
  @PatientRoute()
  start(
    @Query('problem') problem: string | undefined,
    @Query('notice') notice: string | undefined,
    @Res() reply: FastifyReply,
  ): void {
    const problems: StartProblem[] = ['wrong', 'locked', 'ended', 'missing', 'busy', 'expired'];
    this.startWithToken(
      reply,
      problems.find((known) => known === problem),
      notice === 'signed-out' ? 'signed-out' : undefined,
    );
  }

  @Post('sign-in')
  @HttpCode(303)
  @PatientRoute()
  async signIn(@Body() form: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Every post from an address counts, forged or not: past the rate, 429 with the page saying to wait.
    const taken = this.signIns.take(request.ip);
    if (!taken.allowed) {
      void reply.header('Retry-After', String(taken.retryAfterSeconds));
      return this.startWithToken(reply, 'busy', undefined, 429);
    }
    // A post without the token its start page set (another site's form, or a script): 403, nothing checked.
    if (!signInTokenMatches(request, form)) return this.startWithToken(reply, 'expired', undefined, 403);
    const ubrn = field(form, 'ubrn').replace(/\s/g, '');
    const accessCode = field(form, 'accessCode').trim();
    const birthYear = field(form, 'birthYear').trim();
    if (!ubrn || !accessCode || !birthYear) return this.redirect(reply, `${PATIENT_BASE}?problem=missing`);
    const first = await this.patients.signIn(
      { ubrn: ubrn.slice(0, 40), accessCode: accessCode.slice(0, 40) },
      this.context(),
    );
    if (first.outcome !== 'continue') {
      return this.redirect(reply, `${PATIENT_BASE}?problem=${first.reason === 'LOCKED' ? 'locked' : 'wrong'}`);
    }
    // PDS, read as the patient the codes belong to: the year of birth, death, and whether the record is restricted.
    const context: CallContext = {
      ...this.context(),
      caller: { ...this.context().caller!, nhsNumber: first.nhsNumber },
    };
    const found = await this.pds.getPatient({ nhsNumber: first.nhsNumber }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && error.status !== undefined && error.status < 500) return undefined;
      throw error;
    });
    const facts = found
      ? factsOf(found.patient as unknown as Record<string, unknown>)
      : { deceased: true, restricted: true };
    const second = await this.patients.confirm(
      { pendingId: first.pendingId, birthYear: birthYear.slice(0, 8), patient: facts },
      this.context(),
    );
    if (second.outcome !== 'signed-in') {
      return this.redirect(reply, `${PATIENT_BASE}?problem=${second.reason === 'LOCKED' ? 'locked' : 'wrong'}`);
    }
    const seconds = Math.max(60, Math.floor((Date.parse(second.expiresAt) - Date.now()) / 1000));
    this.setSession(reply, second.session, seconds);
    this.redirect(reply, `${PATIENT_BASE}/referral`);
  }

  @Get('referral')
  @PatientRoute()
  async referral(
    @Query('notice') notice: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.signedIn(reply, async () => {
      const view = await this.patients.view({ session: cookieOf(request) }, this.context());
      const notices: ReferralNotice[] = ['booked', 'cancelled', 'change', 'changed', 'taken', 'not-allowed'];
      this.html(
        reply,
        referralPage(
          view,
          notices.find((known) => known === notice),
        ),
      );
    });
  }

  @Get('services/:serviceId/slots')
  @PatientRoute()
  async slots(
    @Param('serviceId') serviceId: string,
    @Query('page') page: string | undefined,
    @Query('error') error: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!/^[0-9]{1,12}$/.test(serviceId))
      return this.html(reply, problemPage('Page not found', 'Check the address.'), 404);
    const number = /^[0-9]{1,4}$/.test(page ?? '') ? Math.min(Math.max(Number(page), 1), 1000) : 1;
    await this.signedIn(reply, async () => {
      const slots = await this.patients.slots({ session: cookieOf(request), serviceId, page: number }, this.context());
      this.html(reply, slotsPage(slots, randomUUID(), error === 'choose' ? 'choose' : undefined));
    });
  }

  @Post('book')
  @HttpCode(303)
  @PatientRoute()
  async book(@Body() form: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const serviceId = field(form, 'serviceId');
    const slotId = field(form, 'slotId');
    const version = Number(field(form, 'version'));
    if (!/^[0-9]{1,12}$/.test(serviceId) || !Number.isInteger(version) || version < 1) {
      return this.redirect(reply, `${PATIENT_BASE}/referral?notice=changed`);
    }
    if (!/^[0-9]{1,15}$/.test(slotId)) {
      return this.redirect(reply, `${PATIENT_BASE}/services/${serviceId}/slots?error=choose`);
    }
    await this.signedIn(reply, async () => {
      try {
        await this.patients.book(
          { session: cookieOf(request), csrf: field(form, 'csrf').slice(0, 100), version, serviceId, slotId },
          this.context(field(form, 'requestId')),
        );
        this.redirect(reply, `${PATIENT_BASE}/referral?notice=booked`);
      } catch (error) {
        const code = error instanceof PlatformError ? error.code : '';
        if (code === 'SLOT_NOT_AVAILABLE') return this.redirect(reply, `${PATIENT_BASE}/referral?notice=taken`);
        if (
          ['RESOURCE_VERSION_MISMATCH', 'REFERRAL_LOCKED', 'INVALID_REQUEST_STATE', 'INAPPROPRIATE_SLOT'].includes(code)
        ) {
          return this.redirect(reply, `${PATIENT_BASE}/referral?notice=changed`);
        }
        throw error;
      }
    });
  }

  @Get('cancel')
  @PatientRoute()
  async cancelForm(
    @Query('intent') intent: string | undefined,
    @Query('error') error: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.signedIn(reply, async () => {
      const view = await this.patients.view({ session: cookieOf(request) }, this.context());
      this.html(reply, cancelPage(view, intent === 'change', randomUUID(), error === 'reason' ? 'reason' : undefined));
    });
  }

  @Post('cancel')
  @HttpCode(303)
  @PatientRoute()
  async cancel(@Body() form: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const change = field(form, 'intent') === 'change';
    const reason = field(form, 'reason');
    const appointmentId = field(form, 'appointmentId');
    const appointmentVersion = Number(field(form, 'appointmentVersion'));
    if (!(reason in PATIENT_CANCELLATION_REASONS)) {
      return this.redirect(reply, `${PATIENT_BASE}/cancel?error=reason${change ? '&intent=change' : ''}`);
    }
    if (!/^[0-9]{1,15}$/.test(appointmentId) || !Number.isInteger(appointmentVersion) || appointmentVersion < 1) {
      return this.redirect(reply, `${PATIENT_BASE}/referral?notice=changed`);
    }
    await this.signedIn(reply, async () => {
      try {
        await this.patients.cancel(
          {
            session: cookieOf(request),
            csrf: field(form, 'csrf').slice(0, 100),
            appointmentId,
            appointmentVersion,
            reason: reason as PatientCancellationReason,
          },
          this.context(field(form, 'requestId')),
        );
        this.redirect(reply, `${PATIENT_BASE}/referral?notice=${change ? 'change' : 'cancelled'}`);
      } catch (error) {
        const code = error instanceof PlatformError ? error.code : '';
        if (['RESOURCE_VERSION_MISMATCH', 'REFERRAL_LOCKED', 'INVALID_REQUEST_STATE'].includes(code)) {
          return this.redirect(reply, `${PATIENT_BASE}/referral?notice=changed`);
        }
        throw error;
      }
    });
  }

  @Post('sign-out')
  @HttpCode(303)
  @PatientRoute()
  async signOut(@Body() form: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.signedIn(reply, async () => {
      await this.patients.signOut(
        { session: cookieOf(request), csrf: field(form, 'csrf').slice(0, 100) },
        this.context(),
      );
      this.setSession(reply, '', 0);
      this.redirect(reply, `${PATIENT_BASE}?notice=signed-out`);
    });
  }
}
