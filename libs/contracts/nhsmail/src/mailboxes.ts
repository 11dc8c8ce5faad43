import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';

export const MAILBOX_KINDS = ['personal', 'shared', 'application'] as const;
export type MailboxKind = (typeof MAILBOX_KINDS)[number];

/** A lower-case mail address with a domain (what the relay stores and compares). */
export const MAIL_ADDRESS = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const USERNAME = /^[A-Za-z0-9._@-]{1,100}$/;

/** A mailbox as the service answers it (never its password). */
export interface Mailbox {
  address: string;
  kind: MailboxKind;
  displayName: string;
  /** The platform user a personal mailbox belongs to (the token's preferred_username). */
  ownerUsername: string | null;
  /** The organisation of a shared mailbox (pharmacy.<ODS>@nhs.net). */
  odsCode: string | null;
  /** Who may read a shared mailbox and send as it. */
  members: string[];
  /** Whether it can sign in with a password (AUTH PLAIN/LOGIN). */
  hasPassword: boolean;
  createdAt: string;
}

/**
 * Creates a mailbox (registry administrators): a user's personal one, an organisation's shared one with its
 * members, or an application account that signs in with a password.
 */
export class CreateMailboxRequest {
  @Matches(MAIL_ADDRESS, { message: 'address must be a lower-case mail address such as jane.smith@nhs.net' })
  @MaxLength(254)
  address!: string;

  @IsIn(MAILBOX_KINDS)
  kind!: MailboxKind;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName!: string;

  @ValidateIf((request: CreateMailboxRequest) => request.kind === 'personal' || request.ownerUsername !== undefined)
  @Matches(USERNAME, { message: 'ownerUsername must be a platform username' })
  ownerUsername?: string;

  @IsOptional()
  @Matches(/^[A-Z0-9]{3,6}$/, { message: 'odsCode must be 3 to 6 upper-case letters or digits' })
  odsCode?: string;

  /** At least 12 characters; stored only as a scrypt hash. */
  @ValidateIf((request: CreateMailboxRequest) => request.kind === 'application' || request.password !== undefined)
  @IsString()
  @MinLength(12)
  @MaxLength(200)
  password?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(USERNAME, { each: true, message: 'members must be platform usernames' })
  members?: string[];
}

export class GetMailboxRequest {
  @Matches(MAIL_ADDRESS, { message: 'address must be a lower-case mail address' })
  @MaxLength(254)
  address!: string;
}
