import { describe, expect, it } from 'vitest';
import { formatDuration, headline, primaryLink } from '../../src/notify/sinks/message-parts.ts';
import { slackMessage } from '../../src/notify/sinks/slack-message.ts';
import { teamsMessage } from '../../src/notify/sinks/teams-message.ts';
import { failedPipelineNotification, notifiedJob } from '../helpers/notification-fixture.ts';

describe('what people read', () => {
  it('says the status in an emoji and a word for every trigger', () => {
    const base = failedPipelineNotification();
    expect(headline({ ...base, trigger: 'fixed' }).text).toBe('✅ Fixed · acme/api main');
    expect(headline({ ...base, trigger: 'still-failing' }).text).toBe('🔁 Still failing · acme/api main');
    expect(headline({ ...base, trigger: 'finished', pipeline: base.pipeline && { ...base.pipeline, status: 'SUCCESS' } }).text).toBe('✅ Finished: SUCCESS · acme/api main');
    expect(headline({ ...base, trigger: 'runner-pool-starved', project: null, pipeline: null }).text).toBe('🚦 Runner pool starved');
  });

  it('formats durations', () => {
    expect([formatDuration(252_000), formatDuration(4_000), formatDuration(3_900_000), formatDuration(null)]).toEqual(['4m 12s', '4s', '1h 5m', null]);
  });

  it("keeps a long message inside Slack's limits", () => {
    const base = failedPipelineNotification();
    const jobs = Array.from({ length: 13 }, (_, i) => notifiedJob({ id: `j${i}`, name: `job-${i}`, reason: 'x'.repeat(400) }));
    const long = { ...base, project: base.project && { ...base.project, fullName: 'p'.repeat(200) }, pipeline: base.pipeline && { ...base.pipeline, failingJobs: jobs } };
    const message = slackMessage(long);
    const header = message.blocks?.[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    const jobsText = (message.blocks?.[3] as { text: { text: string } }).text.text;
    expect(jobsText.length).toBeLessThanOrEqual(3000);
    expect(jobsText).toMatch(/\n…and 3 more$/);
    expect(teamsMessage(long).attachments[0].content.body.map((b) => String(b['text'] ?? '')).join('\n')).toContain('…and 3 more');
  });

  it('colours a fix green in Teams and a failure as attention, the word saying the same', () => {
    const base = failedPipelineNotification();
    const title = (n: typeof base) => teamsMessage(n).attachments[0].content.body[0];
    expect(title(base)).toMatchObject({ color: 'Attention', text: '❌ Failed · acme/api main' });
    expect(title({ ...base, trigger: 'fixed', category: 'none' })).toMatchObject({ color: 'Good', text: '✅ Fixed · acme/api main' });
  });

  it('links only web pages: a button with another scheme would make Slack refuse the whole message', () => {
    const n = failedPipelineNotification();
    expect(primaryLink(n)?.url).toBe(n.pipeline!.url);
    const odd = { ...n, pipeline: { ...n.pipeline!, url: 'a:' }, job: null, project: n.project && { ...n.project, url: 'javascript:alert(1)' } };
    expect(primaryLink(odd)).toBeNull();
    expect(slackMessage(odd).blocks!.some((b) => b.type === 'actions')).toBe(false);
  });
});
