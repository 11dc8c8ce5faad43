import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBase64,
  IsString,
  ValidateNested,
} from 'class-validator';
import type { Mailbox } from './mailboxes';
import { MAIL_ADDRESS } from './mailboxes';

/** The mailboxes the caller may use: their own personal one (made on first use) and the shared ones they belong to. */
export interface MyMailboxes {
  personal: Mailbox;
  shared: Mailbox[];
}

/** One message as a mailbox lists it (headers the relay stored; no body). */
export interface MessageSummary {
  id: string;
  from: string | null;
  subject: string | null;
  sizeBytes: number;
  seen: boolean;
  deliveredAt: string;
}

export interface MessagePage {
  messages: MessageSummary[];
  /** Unread messages in the whole mailbox. */
  unread: number;
  total: number;
  offset: number;
  limit: number;
}

export interface MessageAttachment {
  /** Its position among the message's attachments (what the download takes). */
  index: number;
  filename: string | null;
  contentType: string;
  sizeBytes: number;
}

/** A message read from its stored chunks with mailparser. */
export interface MessageContent extends MessageSummary {
  messageId: string | null;
  to: string[];
  cc: string[];
  date: string | null;
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: MessageAttachment[];
}

/** Makes shared mailboxes pharmacy.<ODS>@<domain> for the given pharmacy organisations (registry-admin). */
export class ProvisionSharedMailboxesRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(/^[A-Z0-9]{3,6}$/, { each: true, message: 'odsCodes must be 3 to 6 upper-case letters or digits' })
  odsCodes!: string[];
}

export interface ProvisionedMailboxes {
  created: string[];
  existing: string[];
}

/** Which mailbox: the caller's own, or a shared one they are a member of. */
export class MailboxRef {
  @Matches(MAIL_ADDRESS, { message: 'mailbox must be a lower-case mail address' })
  @MaxLength(254)
  mailbox!: string;
}

export class ListMessagesRequest extends MailboxRef {
  @IsOptional()
  @IsBoolean()
  unreadOnly?: boolean;

  @IsOptional()
  @MaxLength(200)
  subject?: string;

  @IsOptional()
  @MaxLength(254)
  from?: string;

  /** ISO dates (inclusive bounds on when the message reached the mailbox). */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, { message: 'since must be an ISO date' })
  since?: string;

  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, { message: 'until must be an ISO date' })
  until?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
}

export class MessageRef extends MailboxRef {
  @IsUUID()
  id!: string;
}

export class MarkMessageRequest extends MessageRef {
  @IsBoolean()
  seen!: boolean;
}

export class SendAttachment {
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  filename!: string;

  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, { message: 'contentType must be a MIME type' })
  contentType?: string;

  /** The file, base64 (a request is at most 1 MB on the bus; larger files go by SMTP submission). */
  @IsBase64()
  @MaxLength(1_000_000)
  contentBase64!: string;
}

/** A message to send from `mailbox` (the caller's own, or a shared one they are a member of). */
export class SendMessageRequest extends MailboxRef {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(MAIL_ADDRESS, { each: true, message: 'to must be lower-case mail addresses' })
  to!: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(MAIL_ADDRESS, { each: true, message: 'cc must be lower-case mail addresses' })
  cc?: string[];

  @IsString()
  @MaxLength(998)
  subject!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  text?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  html?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => SendAttachment)
  attachments?: SendAttachment[];
}

/** A message queued for delivery (the same durable queue as SMTP intake). */
export interface SentMessage {
  id: string;
  messageId: string;
  recipients: number;
  sizeBytes: number;
}

/** A piece of an attachment (at most 512 KiB, under NATS's 1 MB once base64): ask again from `next` until null. */
export class AttachmentPieceRequest extends MessageRef {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  index!: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export interface AttachmentPiece {
  filename: string | null;
  contentType: string;
  sizeBytes: number;
  offset: number;
  /** base64 */
  data: string;
  next: number | null;
}

/** A platform user's personal mailbox firstname.lastname@nhs.net, made by a registry administrator. */
export class ProvisionPersonalMailboxRequest {
  @Matches(/^[A-Za-z0-9._@-]{1,100}$/, { message: 'username must be a platform username' })
  username!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  firstName!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  lastName!: string;
}
