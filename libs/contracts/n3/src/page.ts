import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** Offset paging for list and search requests (query strings arrive as text, hence the conversion). */
export class PageRequest {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  offset = 0;
}

/** A paged request as a caller writes it: `limit` and `offset` may be left to their defaults. */
export type Paged<T extends PageRequest> = Omit<T, keyof PageRequest> & Partial<PageRequest>;

export interface Page<T> {
  items: T[];
  /** Pass as `offset` for the next page; absent on the last page. */
  nextOffset?: number;
}
