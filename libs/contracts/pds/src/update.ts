import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

/** One RFC 6902 operation as PDS accepts it (add, replace, remove, test; no move or copy). */
export class PatchOperation {
  @IsString()
  @MaxLength(16)
  op!: string;

  @IsString()
  @MaxLength(512)
  path!: string;

  /** Any JSON value; its shape is checked against the resource when the patch is applied. */
  @IsOptional()
  @Allow()
  value?: unknown;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  from?: string;
}

export class UpdatePatientRequest {
  @IsString()
  @MaxLength(64)
  nhsNumber!: string;

  /** The If-Match header as sent (`W/"2"`); absent means the caller did not send one (PRECONDITION_FAILED). */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ifMatch?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => PatchOperation)
  patches!: PatchOperation[];

  /**
   * Sent by a gateway in NHS sandbox mode: the patch is checked and applied as usual but nothing is kept (the
   * NHS sandbox "does not actually persist any updates"), and only the JSON Patch is validated, not the
   * business rules. A pds not started with PDS_SEED=sandbox refuses it.
   */
  @IsOptional()
  @IsBoolean()
  sandbox?: boolean;
}

export const PATCH_OPERATIONS = ['add', 'replace', 'remove', 'test'] as const;
export const isPatchOperation = (op: string): op is (typeof PATCH_OPERATIONS)[number] =>
  (PATCH_OPERATIONS as readonly string[]).includes(op);
