import type { Notification } from '../notification.ts';
import { facts, headline, jobLine, listedJobs, primaryLink } from './message-parts.ts';

/**
 * A Notification as a Microsoft Teams message with one Adaptive Card (schema 1.5; Teams renders
 * up to 1.5 in incoming webhooks and Workflows): a title with emoji and word, a FactSet, the failing
 * jobs, and an Action.OpenUrl. https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference
 */

const MAX_JOBS = 10;

export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: readonly [{ readonly contentType: 'application/vnd.microsoft.card.adaptive'; readonly contentUrl: null; readonly content: AdaptiveCard }];
}

export interface AdaptiveCard {
  readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  readonly type: 'AdaptiveCard';
  readonly version: '1.5';
  readonly body: readonly Record<string, unknown>[];
  readonly actions: readonly Record<string, unknown>[];
  /** Teams: use the chat's full width, so a job list is not squeezed into a narrow bubble. */
  readonly msteams: { readonly width: 'Full' };
}

export function teamsMessage(n: Notification): TeamsMessage {
  const head = headline(n);
  const body: Record<string, unknown>[] = [
    // Emoji and word carry the status; the colour only repeats it.
    { type: 'TextBlock', text: head.text, size: 'Large', weight: 'Bolder', wrap: true, style: 'heading', color: titleColour(n) },
    { type: 'TextBlock', text: n.summary, wrap: true },
  ];
  const shown = facts(n);
  if (shown.length > 0) body.push({ type: 'FactSet', facts: shown.map((f) => ({ title: f.label, value: f.value })) });
  const jobs = listedJobs(n);
  if (jobs.length > 0) {
    const title = n.pipeline && n.pipeline.failingJobs.length > 0 ? 'Failing jobs' : 'Job';
    const lines = jobs.slice(0, MAX_JOBS).map((job) => `- ${job.flaky ? '🔁 ' : ''}${jobLine(job)}`);
    if (jobs.length > MAX_JOBS) lines.push(`- …and ${jobs.length - MAX_JOBS} more`);
    body.push({ type: 'TextBlock', text: title, weight: 'Bolder', wrap: true, spacing: 'Medium' }, { type: 'TextBlock', text: lines.join('\n'), wrap: true });
  }
  body.push({ type: 'TextBlock', text: `rule ${n.rule} · ${n.trigger} · ${n.occurredAt}`, isSubtle: true, size: 'Small', wrap: true });
  const link = primaryLink(n);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.5',
          body,
          actions: link ? [{ type: 'Action.OpenUrl', title: link.label, url: link.url }] : [],
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

function titleColour(n: Notification): 'Good' | 'Attention' | 'Default' {
  if (n.trigger === 'fixed' || (n.trigger === 'finished' && n.pipeline?.status === 'SUCCESS')) return 'Good';
  return n.category === 'none' && n.trigger !== 'backend-down' && n.trigger !== 'runner-pool-empty' ? 'Default' : 'Attention';
}
