import { IsInt, Matches, Max, Min } from 'class-validator';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient, SubjectPolicies } from '@platform/shared-nats';

/**
 * `[secure]` mail: a message to a domain outside the platform and its accredited list is kept encrypted and
 * the recipient reads it on a page of the platform after a one-time code sent to their address. The gateway
 * serves the page and asks the relay with these subjects; the link token and the session are the credentials.
 */
export const NHSMAIL_SECURE_SUBJECTS = {
  secureLink: 'nhsmail.secure.link.v1',
  secureCodeRequest: 'nhsmail.secure.code-request.v1',
  secureCodeVerify: 'nhsmail.secure.code-verify.v1',
  secureRead: 'nhsmail.secure.read.v1',
  secureAttachment: 'nhsmail.secure.attachment.v1',
} as const;

/** The gateway signs the page's requests as this caller (the anonymous public web role). */
export const NHSMAIL_SECURE_WEB_CALLER = {
  id: 'nhsmail-secure-web',
  username: 'nhsmail-secure-web',
  roles: ['patient'],
} as const;

export const NHSMAIL_SECURE_POLICIES: SubjectPolicies = Object.fromEntries(
  Object.values(NHSMAIL_SECURE_SUBJECTS).map((subject) => [subject, { roles: ['patient'] }]),
);

/** A link token: 32 random bytes, base64url (256 bits). */
export const SECURE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class SecureLinkRequest {
  @Matches(SECURE_TOKEN, { message: 'token must be a secure link token' })
  token!: string;
}

export class SecureCodeVerifyRequest extends SecureLinkRequest {
  @Matches(/^[0-9]{1,12}$/, { message: 'code must be digits' })
  code!: string;
}

export class SecureReadRequest extends SecureLinkRequest {
  @Matches(SECURE_TOKEN, { message: 'session must be a session token' })
  session!: string;
}

export class SecureAttachmentRequest extends SecureReadRequest {
  @IsInt()
  @Min(0)
  @Max(999)
  index!: number;
}

/** Why a link cannot be used: unknown (or never was), past its expiry, or locked after too many wrong codes. */
export type SecureLinkProblem = 'unknown' | 'expired' | 'locked';

export type SecureLinkState =
  | { state: 'open'; maskedAddress: string; expiresAt: string }
  | { state: SecureLinkProblem };

export type SecureCodeRequested =
  | { outcome: 'sent'; maskedAddress: string }
  | { outcome: SecureLinkProblem | 'too-many' };

export type SecureCodeVerified =
  | { outcome: 'ok'; session: string; expiresAt: string }
  | { outcome: SecureLinkProblem | 'wrong' | 'no-code' | 'code-expired'; attemptsLeft?: number };

export interface SecureMessageView {
  from: string;
  to: string;
  subject: string;
  date: string | null;
  text: string;
  truncated: boolean;
  attachments: { index: number; filename: string; contentType: string; size: number; downloadable: boolean }[];
}

export interface SecureAttachment {
  filename: string;
  contentType: string;
  contentBase64: string;
}

/** The typed client of the page's subjects (the gateway's). */
export class SecureMailClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  link(request: SecureLinkRequest, context: CallContext): Promise<SecureLinkState> {
    return this.rpc.requestValidated(NHSMAIL_SECURE_SUBJECTS.secureLink, SecureLinkRequest, request, context);
  }

  requestCode(request: SecureLinkRequest, context: CallContext): Promise<SecureCodeRequested> {
    return this.rpc.requestValidated(NHSMAIL_SECURE_SUBJECTS.secureCodeRequest, SecureLinkRequest, request, context);
  }

  verifyCode(request: SecureCodeVerifyRequest, context: CallContext): Promise<SecureCodeVerified> {
    return this.rpc.requestValidated(
      NHSMAIL_SECURE_SUBJECTS.secureCodeVerify,
      SecureCodeVerifyRequest,
      request,
      context,
    );
  }

  /** The message, or ACCESS_DENIED when the session is not one of this link's. */
  async read(request: SecureReadRequest, context: CallContext): Promise<SecureMessageView> {
    const view = await this.rpc.requestValidated<SecureMessageView>(
      NHSMAIL_SECURE_SUBJECTS.secureRead,
      SecureReadRequest,
      request,
      context,
    );
    if (typeof view?.text !== 'string' || !Array.isArray(view.attachments)) {
      throw new PlatformError('REC_SERVER_ERROR', 'nhsmail-relay answered with something that is not a message');
    }
    return view;
  }

  attachment(request: SecureAttachmentRequest, context: CallContext): Promise<SecureAttachment> {
    return this.rpc.requestValidated(
      NHSMAIL_SECURE_SUBJECTS.secureAttachment,
      SecureAttachmentRequest,
      request,
      context,
    );
  }
}
