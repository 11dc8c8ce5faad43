import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Given names are searched word by word (`givenWords`): rows written before keep a compound given name
 * ("john paul") as one element. Splitting them on spaces gives what `givenWords` derives today, since
 * normalised names are words joined by single spaces; `given_first` and `given_key` are generated from the
 * array and follow.
 */
export class GivenNameWords1764800000000 implements MigrationInterface {
  name = 'GivenNameWords1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'pds');
    await queryRunner.query(
      `UPDATE ${schema}.patient_name
         SET given_norm = ARRAY(SELECT word FROM unnest(given_norm) WITH ORDINALITY AS g(name, position),
                                  regexp_split_to_table(g.name, ' ') WITH ORDINALITY AS w(word, place)
                                WHERE word <> '' ORDER BY g.position, w.place)
       WHERE EXISTS (SELECT 1 FROM unnest(given_norm) AS g(name) WHERE position(' ' IN g.name) > 0)`,
    );
  }

  async down(): Promise<void> {
    // Word-split given names are still found by every search; nothing to undo.
  }
}
