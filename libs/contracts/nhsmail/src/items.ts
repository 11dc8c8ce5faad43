import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

/** An item, as the service answers it. */
export interface Item {
  id: string;
  name: string;
  description: string | null;
  version: number;
  /** ISO 8601. */
  createdAt: string;
}

export class CreateItemRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class GetItemRequest {
  @IsUUID()
  itemId!: string;
}
