/** The `logs` section of the config (README "Live logs"). */
import { z } from 'zod';
import { redactPatternProblem } from './log-redaction.ts';

export const logsConfigSchema = z
  .object({
    /** false: every Job.logAvailability is NONE and jobLog refuses. */
    enabled: z.boolean().default(true),
    /** Regular expressions (JavaScript syntax) whose matches are replaced by [REDACTED] in every log line. */
    redact: z
      .array(z.string().min(1).superRefine((pattern, ctx) => {
        const problem = redactPatternProblem(pattern);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a redaction pattern: ${problem}` });
      }))
      .default([]),
    /** jobLog subscriptions one identity may hold at once (LOG_TAIL_LIMIT beyond). */
    maxTailsPerIdentity: z.number().int().min(1).max(100_000).default(10),
    /** Largest chunk sent to a watcher, in bytes (cut at a line boundary where possible). */
    maxChunkBytes: z.number().int().min(1024).max(4_194_304).default(65_536),
    /** Recent chunks kept in memory per tailed log, in bytes; also the most one Job.log read returns. */
    ringBytes: z.number().int().min(4096).max(268_435_456).default(1_048_576),
    /** Longest wait between two reads of a quiet log. */
    maxPollIntervalSeconds: z.number().min(1).max(300).default(15),
  })
  .strict()
  .default({});

export type LogsConfig = z.output<typeof logsConfigSchema>;
