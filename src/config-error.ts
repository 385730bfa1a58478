import type { z } from 'zod';

/** A configuration problem that stops start-up; the message names the offending setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}
