import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { Notification } from '../notification.ts';
import { facts, headline, jobLine, listedJobs, primaryLink } from './message-parts.ts';

/**
 * A Notification as a Slack Block Kit message (https://docs.slack.dev/reference/block-kit/blocks).
 * `text` is the fallback notifications and screen readers use. Slack's limits are applied here so
 * a long job list never makes Slack refuse the whole message (400 invalid_blocks):
 * header 150 characters, 10 fields of 2000, section text 3000, button text 75.
 */

const MAX_JOBS = 10;

/** mrkdwn's three control characters (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackMessage(n: Notification): IncomingWebhookSendArguments & { text: string } {
  const head = headline(n);
  const blocks: NonNullable<IncomingWebhookSendArguments['blocks']> = [
    { type: 'header', text: { type: 'plain_text', text: cut(head.text, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(n.summary), 3000) } },
  ];
  const shown = facts(n).slice(0, 10);
  if (shown.length > 0) {
    blocks.push({ type: 'section', fields: shown.map((f) => ({ type: 'mrkdwn' as const, text: cut(`*${f.label}*\n${escapeMrkdwn(f.value)}`, 2000) })) });
  }
  const jobs = listedJobs(n);
  if (jobs.length > 0) {
    // Each line bounded, so ten of them and the "…and N more" fit in the section's 3000.
    const lines = jobs.slice(0, MAX_JOBS).map((job) => cut(`• ${job.flaky ? ':repeat: ' : ''}${escapeMrkdwn(jobLine(job))}`, 280));
    if (jobs.length > MAX_JOBS) lines.push(`…and ${jobs.length - MAX_JOBS} more`);
    const title = n.pipeline && n.pipeline.failingJobs.length > 0 ? 'Failing jobs' : 'Job';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(`*${title}*\n${lines.join('\n')}`, 3000) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(`rule \`${escapeMrkdwn(n.rule)}\` · ${escapeMrkdwn(n.trigger)} · ${escapeMrkdwn(n.occurredAt)}`, 3000) }] });
  const link = primaryLink(n);
  if (link) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: cut(link.label, 75) }, url: cut(link.url, 3000), action_id: 'open' }] });
  }
  return { text: cut(n.summary, 3000), blocks };
}
