import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { Refusal } from './edits';
import type { Plan } from './generate';

/** Writes the plan: new files formatted by the repository's Prettier settings, edited files as edited. */
export async function applyPlan(root: string, plan: Plan): Promise<void> {
  for (const [file, text] of Object.entries(plan.created)) {
    const full = path.join(root, file);
    if (existsSync(full)) throw new Refusal(`${file} appeared while the generator ran`);
    mkdirSync(path.dirname(full), { recursive: true });
    const formatted = await format(text, { ...(await resolveConfig(full)), filepath: full });
    writeFileSync(full, formatted, { flag: 'wx' });
  }
  for (const [file, text] of Object.entries(plan.changed)) {
    const full = path.join(root, file);
    // Formatted as the repository formats it (Markdown tables aligned, long lines wrapped); .env.example has no parser.
    const formatted = /\.(ts|mjs|json|ya?ml|md)$/.test(file)
      ? await format(text, { ...(await resolveConfig(full)), filepath: full })
      : text;
    writeFileSync(full, formatted);
  }
}
