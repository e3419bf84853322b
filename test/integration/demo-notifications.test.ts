import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Issue 16's promise for a newcomer: `npm start` with no config runs default rules into a log
 * sink whose receiver page (/demo/notifications) shows a `failed` and a `fixed` within a minute.
 * The demo's seed changes every run, so only what every run shows is required; the seconds are
 * printed, not asserted (the test's own timeout bounds them).
 */
describe('demo mode notifications', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('should show a failed and a fixed message on the receiver page soon after npm start', async () => {
    const started = Date.now();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', SWITCHYARD_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const base = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /DEMO MODE.*?Open (http:\/\/localhost:\d+)\/graphql/.exec(output);
        if (match) resolve(match[1]!);
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });

    const seen = new Map<string, number>();
    type View = { trigger: string; rule: string; summary: string; project: string | null };
    let views: View[] = [];
    // Polled until both are there (the test's own timeout bounds it): a condition, not a sleep.
    while (!seen.has('failed') || !seen.has('fixed')) {
      const res = await fetch(`${base}/demo/notifications.json`);
      expect(res.status).toBe(200);
      views = (await res.json()) as View[];
      for (const v of views) if (!seen.has(v.trigger)) seen.set(v.trigger, (Date.now() - started) / 1000);
      if (!seen.has('failed') || !seen.has('fixed')) await new Promise((r) => setTimeout(r, 500));
    }
    console.info(`demo mode: first failed after ${seen.get('failed')!.toFixed(1)} s, first fixed after ${seen.get('fixed')!.toFixed(1)} s (${[...seen.keys()].join(', ')})`);
    const failed = views.find((v) => v.trigger === 'failed')!;
    expect(failed.summary.length).toBeGreaterThan(0);
    expect(failed.project).not.toBeNull();

    // The page itself: served with its own script, no CDN.
    const page = await fetch(`${base}/demo/notifications`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).not.toMatch(/<script[^>]+src=/);

    const exit = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 180_000);
});
