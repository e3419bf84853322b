import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

/** Validation messages of a config with these notifications (issue 16: malformed rules get per-key errors). */
function issues(notifications: unknown, extra: Record<string, unknown> = {}): string {
  try {
    validateConfig({ auth: { mode: 'open' }, backends: [gh], notifications, ...extra }, adapterFactories, 'switchyard.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };
const hook = { name: 'hook', type: 'webhook', url: 'https://hooks.example.com/in', secret: { env: 'HOOK_SECRET' } };

describe('notifications config', () => {
  it('should accept rules and sinks and apply the defaults', () => {
    const config = validateConfig({ auth: { mode: 'open' }, backends: [gh], notifications: { sinks: [hook], rules: [{ name: 'ci', on: ['failed', 'fixed'], sinks: ['hook'] }] } }, adapterFactories, 'x');
    const [rule] = config.notifications.rules;
    expect(rule).toMatchObject({ match: { branches: ['$default'], projects: [] }, flaky: 'mark', stillFailingEveryMinutes: 60, runningLongerThan: 'p95' });
    expect(config.notifications.sinks[0]).toMatchObject({ concurrency: 2, ratePerMinute: 60, timeoutSeconds: 10, allowInsecureUrl: false });
    expect(config.notifications.delivery).toMatchObject({ maxAttempts: 12, keepDays: 14 });
  });

  it('should name the key, what was expected and what was received for each malformed rule and sink', () => {
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['broken'], sinks: ['hook'] }] })).toMatch(/notifications\.rules\[0\]\.on\[0\]: expected one of "failed", "fixed".*received string "broken"/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['transition'], sinks: ['hook'] }] })).toMatch(/notifications\.rules\[0\]\.on\[0\]: expected one of .*received string "transition"/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: [], sinks: ['hook'] }] })).toMatch(/notifications\.rules\[0\]\.on: expected at least 1/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'], sinks: ['slack'] }] })).toMatch(/notifications\.rules\[0\]\.sinks\[0\]: expected the name of a configured sink \(hook\), received string "slack"/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'], route: { infrastructure: ['ops'] } }] })).toMatch(/notifications\.rules\[0\]\.route\.infrastructure\[0\]: expected the name of a configured sink \(hook\), received string "ops"/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'] }] })).toMatch(/notifications\.rules\[0\]\.sinks: .*at least one sink, in `sinks` or `route`/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'], sinks: ['hook'], match: { projects: ['acme/***'] } }] })).toMatch(/notifications\.rules\[0\]\.match\.projects\[0\]: expected a pattern where "\*\*" is a whole segment/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'], sinks: ['hook'], flaky: 'ignore' }] })).toMatch(/notifications\.rules\[0\]\.flaky: expected one of "notify", "mark", "suppress"/);
    expect(issues({ sinks: [hook], rules: [{ name: 'ci', on: ['failed'], sinks: ['hook'], mach: {} }] })).toMatch(/notifications\.rules\[0\]\.mach: unknown key; did you mean "match"\?/);
    expect(issues({ sinks: [hook, hook] })).toMatch(/notifications\.sinks\[1\]\.name: expected a name no other sink has, received string "hook"/);
    expect(issues({ sinks: [{ ...hook, type: 'pagerduty' }] })).toMatch(/notifications\.sinks\[0\]\.type: expected one of "slack", "teams", "webhook", "cdevents", "log", received string "pagerduty"/);
    expect(issues({ sinks: [{ name: 'hook', type: 'webhook', url: 'https://x.example.com' }] })).toMatch(/notifications\.sinks\[0\]\.secret: expected/);
    expect(issues({ sinks: [hook], exports: { cdevents: { sink: 'hook' } } })).toMatch(/notifications\.exports\.cdevents\.sink: expected a sink of type cdevents \("hook" is a webhook sink\)/);
    expect(issues({ sinks: [{ ...hook, url: 'not a url' }] })).toMatch(/notifications\.sinks\[0\]\.url: expected a URL, or \{ env: NAME \} when it carries a token, received string "not a url"/);
  });

  it('should refuse notifications without the history that holds their outbox', () => {
    expect(issues({ sinks: [hook] }, { history: { enabled: false } })).toMatch(/history\.enabled: expected true while notifications\.sinks is set \(the notification outbox lives in the history database\), received boolean false/);
  });
});
