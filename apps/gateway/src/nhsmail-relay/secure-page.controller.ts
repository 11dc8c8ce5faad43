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
  NHSMAIL_SECURE_WEB_CALLER,
  SECURE_TOKEN,
  type SecureLinkProblem,
  type SecureMailClient,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { RateLimiter } from '../auth/rate-limiter';
import { ROUTE_POLICY, type RoutePolicy } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import {
  codePage,
  linkProblemPage,
  messagePage,
  SECURE_BASE,
  SECURE_STYLESHEET,
  startPage,
  type CodeError,
  type StartProblem,
} from './secure-pages';

export const SECURE_MAIL_CLIENT = Symbol('SECURE_MAIL_CLIENT');

const SESSION_COOKIE = 'nhsmail_secure';
const CSRF_COOKIE = 'nhsmail_secure_csrf';
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
const PROBLEM_STATUS: Record<SecureLinkProblem, number> = { unknown: 404, expired: 410, locked: 403 };

/** Open without a token (the link and the code are the credentials, checked by the relay); forms of at most 1 KiB. */
const SecurePageRoute = (): MethodDecorator => {
  const policy: RoutePolicy = { fhir: false, public: true, roles: [], maxBodyBytes: 1024 };
  return applyDecorators(SetMetadata(ROUTE_POLICY, policy), RouteConfig({ policy }));
};

function field(form: unknown, name: string): string {
  const value = typeof form === 'object' && form !== null ? (form as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

function cookieOf(request: FastifyRequest, name: string): string {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=').slice(0, 100);
  }
  return '';
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/**
 * The page an outside recipient of a `[secure]` message opens from the notice: `/nhsmail/secure/{token}`.
 * They ask for a one-time code mailed to that address, enter it, and read the message (decrypted by the
 * relay). Server-rendered, forms that post and redirect (POST-redirect-GET), no JavaScript. Every form carries
 * a CSRF token that must match an HttpOnly SameSite=Strict cookie (double submit); after the code the browser
 * holds the relay's session in an HttpOnly SameSite=Strict cookie scoped to that link's path.
 */
@ApiExcludeController()
@Controller('nhsmail/secure')
export class SecurePageController {
  /** Code requests and guesses per client address, on top of the per-link limit the relay keeps in PostgreSQL. */
  private readonly posts = new RateLimiter({ rate: 1, burst: 20 });

  constructor(
    @Inject(SECURE_MAIL_CLIENT) private readonly secure: SecureMailClient,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  private context(): CallContext {
    return { requestId: randomUUID(), caller: { ...NHSMAIL_SECURE_WEB_CALLER, roles: ['patient'] } };
  }

  private cookie(reply: FastifyReply, name: string, value: string, path: string, maxAgeSeconds: number): void {
    const secure = this.settings.publicUrl.startsWith('https:') ? '; Secure' : '';
    void reply.header(
      'Set-Cookie',
      `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`,
    );
  }

  /** The CSRF token of this browser (made and set on first sight). */
  private csrf(request: FastifyRequest, reply: FastifyReply): string {
    const existing = cookieOf(request, CSRF_COOKIE);
    if (/^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const token = randomBytes(32).toString('base64url');
    this.cookie(reply, CSRF_COOKIE, token, SECURE_BASE, 3600);
    return token;
  }

  private html(reply: FastifyReply, html: string, status = 200): void {
    void reply.status(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(html);
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).headers(SECURITY_HEADERS).header('Location', location).send();
  }

  /** A POST's checks: a well-formed link token, a matching CSRF token, within the rate. */
  private admitted(token: string, form: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
    if (!SECURE_TOKEN.test(token)) {
      this.html(reply, linkProblemPage('unknown'), 404);
      return false;
    }
    if (!same(field(form, 'csrf'), cookieOf(request, CSRF_COOKIE))) {
      this.redirect(reply, `${SECURE_BASE}/${token}?problem=form`);
      return false;
    }
    if (!this.posts.take(request.ip).allowed) {
      this.redirect(reply, `${SECURE_BASE}/${token}?problem=busy`);
      return false;
    }
    return true;
  }

  @Get('assets/style.css')
  @SecurePageRoute()
  stylesheet(@Res() reply: FastifyReply): void {
    void reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(SECURE_STYLESHEET);
  }

  @Get(':token')
  @SecurePageRoute()
  async start(
    @Param('token') token: string,
    @Query('problem') problem: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!SECURE_TOKEN.test(token)) return this.html(reply, linkProblemPage('unknown'), 404);
    const link = await this.secure.link({ token }, this.context());
    if (link.state !== 'open') return this.html(reply, linkProblemPage(link.state), PROBLEM_STATUS[link.state]);
    const known: StartProblem[] = ['too-many', 'form', 'session', 'busy'];
    this.html(
      reply,
      startPage(
        token,
        link.maskedAddress,
        this.csrf(request, reply),
        known.find((candidate) => candidate === problem),
      ),
    );
  }

  @Post(':token/code')
  @HttpCode(303)
  @SecurePageRoute()
  async requestCode(
    @Param('token') token: string,
    @Body() form: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!this.admitted(token, form, request, reply)) return;
    const sent = await this.secure.requestCode({ token }, this.context());
    if (sent.outcome === 'sent') return this.redirect(reply, `${SECURE_BASE}/${token}/verify`);
    this.redirect(reply, `${SECURE_BASE}/${token}${sent.outcome === 'too-many' ? '?problem=too-many' : ''}`);
  }

  @Get(':token/verify')
  @SecurePageRoute()
  codeForm(
    @Param('token') token: string,
    @Query('error') error: string | undefined,
    @Query('left') left: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): void {
    if (!SECURE_TOKEN.test(token)) return this.html(reply, linkProblemPage('unknown'), 404);
    const known: CodeError[] = ['missing', 'wrong', 'code-expired', 'no-code'];
    const attemptsLeft = /^[0-9]{1,2}$/.test(left ?? '') ? Number(left) : undefined;
    this.html(
      reply,
      codePage(
        token,
        this.csrf(request, reply),
        known.find((candidate) => candidate === error),
        attemptsLeft,
      ),
    );
  }

  @Post(':token/verify')
  @HttpCode(303)
  @SecurePageRoute()
  async verify(
    @Param('token') token: string,
    @Body() form: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!this.admitted(token, form, request, reply)) return;
    const code = field(form, 'code').replace(/\s/g, '');
    if (!/^[0-9]{1,12}$/.test(code)) return this.redirect(reply, `${SECURE_BASE}/${token}/verify?error=missing`);
    const result = await this.secure.verifyCode({ token, code }, this.context());
    if (result.outcome === 'ok') {
      const seconds = Math.max(1, Math.floor((Date.parse(result.expiresAt) - Date.now()) / 1000));
      this.cookie(reply, SESSION_COOKIE, result.session, `${SECURE_BASE}/${token}`, seconds);
      return this.redirect(reply, `${SECURE_BASE}/${token}/message`);
    }
    if (result.outcome === 'wrong') {
      return this.redirect(reply, `${SECURE_BASE}/${token}/verify?error=wrong&left=${result.attemptsLeft ?? 0}`);
    }
    if (result.outcome === 'code-expired' || result.outcome === 'no-code') {
      return this.redirect(reply, `${SECURE_BASE}/${token}/verify?error=${result.outcome}`);
    }
    this.redirect(reply, `${SECURE_BASE}/${token}`);
  }

  /** Runs a read with the session cookie; a missing, forged or ended session goes back to the start. */
  private async withSession(
    token: string,
    request: FastifyRequest,
    reply: FastifyReply,
    read: (session: string) => Promise<void>,
  ): Promise<void> {
    if (!SECURE_TOKEN.test(token)) return this.html(reply, linkProblemPage('unknown'), 404);
    const session = cookieOf(request, SESSION_COOKIE);
    try {
      if (!SECURE_TOKEN.test(session)) throw new PlatformError('ACCESS_DENIED');
      await read(session);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'ACCESS_DENIED')) throw error;
      this.cookie(reply, SESSION_COOKIE, '', `${SECURE_BASE}/${token}`, 0);
      this.redirect(reply, `${SECURE_BASE}/${token}?problem=session`);
    }
  }

  @Get(':token/message')
  @SecurePageRoute()
  async message(
    @Param('token') token: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.withSession(token, request, reply, async (session) => {
      const view = await this.secure.read({ token, session }, this.context());
      this.html(reply, messagePage(token, view));
    });
  }

  @Get(':token/attachments/:index')
  @SecurePageRoute()
  async attachment(
    @Param('token') token: string,
    @Param('index') index: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!/^[0-9]{1,3}$/.test(index)) return this.html(reply, linkProblemPage('unknown'), 404);
    await this.withSession(token, request, reply, async (session) => {
      const file = await this.secure.attachment({ token, session, index: Number(index) }, this.context());
      const type = /^[a-z]+\/[a-z0-9.+-]+$/i.test(file.contentType) ? file.contentType : 'application/octet-stream';
      const name = file.filename.replace(/[^\w.() -]/g, '_').slice(0, 100) || 'attachment';
      void reply
        .status(200)
        .headers(SECURITY_HEADERS)
        .header('Content-Type', type)
        .header('Content-Disposition', `attachment; filename="${name}"`)
        .send(Buffer.from(file.contentBase64, 'base64'));
    });
  }
}
