import { booleanOption, integerOption, type Command } from './command.ts';
import { withClient } from './client-command.ts';
import { CONNECTION_OPTIONS } from './connection.ts';
import { CliError } from './gateway-client.ts';

/**
 * `switchyard logs <job> [-f]`: Job.log, then (with -f) Subscription.jobLog from the log's cursor
 * until the chunk marked complete. A log not readable yet (the job has not started, or GitHub
 * serves it only after completion) is followed from its start.
 */

interface Availability { kind: 'LIVE' | 'AFTER_COMPLETION' | 'NONE'; reason: string }
interface JobLogView { text: string; complete: boolean; cursor: string }

const TERMINAL_ENDED = new Set(['SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED']);

export const logsCommand: Command = {
  name: 'logs',
  summary: "print a job's log; -f follows it live until the job completes",
  description: 'Piped output has ANSI colour codes removed (a terminal keeps them unless --strip-ansi).\nExit codes: 0 printed, 1 the log cannot be read (the reason is printed) or another error; 2 usage.',
  args: [{ name: 'job', help: 'the job (global id, as `switchyard jobs` shows)' }],
  options: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing as the log grows, until the job completes' },
    tail: { type: 'string', placeholder: '<n>', help: 'start with only the last n lines' },
    'strip-ansi': { type: 'boolean', help: 'remove ANSI colour and cursor codes' },
    ...CONNECTION_OPTIONS,
  },
  example: 'switchyard logs Sm9iOmdoOm9jdG8tb3JnL2FwaS9qb2JzLzQy -f',
  run: (inv) => withClient(inv, async (client) => {
    const id = inv.args[0]!;
    const follow = booleanOption(inv.values, 'follow');
    const stripAnsi = booleanOption(inv.values, 'strip-ansi') || inv.io.isTty !== true;
    const tail = integerOption(inv.values, 'tail', { min: 1, max: 1_000_000 });
    const job = (await client.query<{ node: { __typename: string; status: string; logAvailability: Availability } | null }>(
      'query($id: ID!) { node(id: $id) { __typename ... on Job { status logAvailability { kind reason } } } }', { id },
    )).node;
    if (job?.__typename !== 'Job') throw new CliError(`no job ${id} (unknown id, or not visible to this API key)`);
    const readableNow = job.logAvailability.kind === 'LIVE' || (job.logAvailability.kind === 'AFTER_COMPLETION' && TERMINAL_ENDED.has(job.status));
    let after: string | undefined;
    if (readableNow) {
      const { node } = await client.query<{ node: { log: JobLogView | null } }>(
        'query($id: ID!, $tail: Int, $strip: Boolean) { node(id: $id) { ... on Job { log(tail: $tail, stripAnsi: $strip) { text complete cursor } } } }',
        { id, tail: tail ?? null, strip: stripAnsi },
      );
      if (!node.log) throw new CliError(`no log for job ${id}: ${job.logAvailability.reason}`);
      inv.io.stdout(node.log.text);
      if (node.log.complete || !follow) return 0;
      after = node.log.cursor;
    } else if (!follow) {
      throw new CliError(`the log of job ${id} cannot be read now: ${job.logAvailability.reason}${job.logAvailability.kind === 'NONE' ? '' : ' (-f waits for it)'}`);
    }
    await client.subscribe<{ jobLog: { text: string; complete: boolean } }>(
      'subscription($id: ID!, $after: String, $strip: Boolean) { jobLog(id: $id, after: $after, stripAnsi: $strip) { text complete } }',
      { id, after: after ?? null, strip: stripAnsi },
      (d) => inv.io.stdout(d.jobLog.text),
    ).done;
    return 0;
  }),
};
