import { randomBytes } from 'node:crypto';
import type { GatewayRoute } from '../../server/gateway-plugin.ts';
import { sendJson } from '../../server/http-json.ts';
import { formatDuration, headline, jobLine, listedJobs, primaryLink, projectName } from './message-parts.ts';
import type { LoggedNotification, LogSink } from './log-sink.ts';

/**
 * Demo mode's receiver page (issue 16, "the demo"): what the log sinks received, newest first, at
 * /demo/notifications, refreshed by a small inline script that polls /demo/notifications.json.
 * No CDN, no framework. Registered in demo mode only: it shows every message to whoever asks.
 */

const PAGE = '/demo/notifications';
const FEED = '/demo/notifications.json';
const SHOWN = 100;

/** What the page shows of one message: flat and already formatted, so the script only renders. */
export interface DemoNotificationView {
  readonly sink: string;
  readonly receivedAt: string;
  readonly deliveryId: string;
  readonly headline: string;
  readonly summary: string;
  readonly trigger: string;
  readonly rule: string;
  readonly project: string | null;
  readonly branch: string | null;
  readonly duration: string | null;
  readonly jobs: readonly string[];
  readonly link: string | null;
}

export function demoView(m: LoggedNotification): DemoNotificationView {
  const n = m.notification;
  return {
    sink: m.sink,
    receivedAt: m.receivedAt,
    deliveryId: m.deliveryId,
    headline: headline(n).text,
    summary: n.summary,
    trigger: n.trigger,
    rule: n.rule,
    project: projectName(n),
    branch: n.pipeline?.branch ?? null,
    duration: formatDuration(n.pipeline?.durationMs),
    jobs: listedJobs(n).map(jobLine),
    link: primaryLink(n)?.url ?? null,
  };
}

function newestFirst(sinks: readonly LogSink[]): DemoNotificationView[] {
  // Two messages in the same millisecond keep their order in the ring (the later one first).
  return sinks
    .flatMap((s) => s.recent().map((message, position) => ({ message, position })))
    .sort((a, b) => b.message.receivedAt.localeCompare(a.message.receivedAt) || b.position - a.position)
    .slice(0, SHOWN)
    .map(({ message }) => demoView(message));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Only http(s) links become anchors: a message's URL comes from a backend, not from us. */
const safeLink = (url: string | null) => (url && /^https?:\/\//i.test(url) ? url : null);

function itemHtml(v: DemoNotificationView): string {
  const link = safeLink(v.link);
  const jobs = v.jobs.length ? `<ul>${v.jobs.map((j) => `<li>${escapeHtml(j)}</li>`).join('')}</ul>` : '';
  return `<li><strong>${escapeHtml(v.headline)}</strong> <small>${escapeHtml(v.receivedAt)} · ${escapeHtml(v.rule)} → ${escapeHtml(v.sink)}</small><div>${escapeHtml(v.summary)}</div>${jobs}${link ? `<a href="${escapeHtml(link)}" rel="noopener noreferrer">open</a>` : ''}</li>`;
}

/** The same rendering in the browser, for the refresh (kept tiny and dependency-free). */
const SCRIPT = `
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const item = (v) => {
  const link = v.link && /^https?:\\/\\//i.test(v.link) ? v.link : null;
  const jobs = v.jobs.length ? '<ul>' + v.jobs.map((j) => '<li>' + esc(j) + '</li>').join('') + '</ul>' : '';
  return '<li><strong>' + esc(v.headline) + '</strong> <small>' + esc(v.receivedAt) + ' · ' + esc(v.rule) + ' → ' + esc(v.sink) + '</small><div>' + esc(v.summary) + '</div>' + jobs + (link ? '<a href="' + esc(link) + '" rel="noopener noreferrer">open</a>' : '') + '</li>';
};
async function refresh() {
  try {
    const r = await fetch('${FEED}', { cache: 'no-store' });
    if (r.ok) {
      const list = await r.json();
      document.getElementById('list').innerHTML = list.map(item).join('');
      document.getElementById('empty').hidden = list.length > 0;
    }
  } catch { /* the gateway restarts in demo mode; the next poll catches up */ }
  setTimeout(refresh, 2000);
}
setTimeout(refresh, 2000);
`;

function pageHtml(views: readonly DemoNotificationView[], nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard — notifications (demo)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}#list{list-style:none;padding:0}#list>li{border-bottom:1px solid #ccc;padding:.6rem 0}small{color:#555}</style>
</head><body>
<h1>Notifications received (demo)</h1>
<p>What the demo's rules sent to its log sink, newest first. Refreshes every 2 seconds.</p>
<p id="empty"${views.length ? ' hidden' : ''}>Nothing yet: a pipeline has to fail (or be fixed) first.</p>
<ul id="list">${views.map(itemHtml).join('')}</ul>
<script nonce="${nonce}">${SCRIPT}</script>
</body></html>`;
}

export function createDemoNotificationsRoute(logSinks: readonly LogSink[]): GatewayRoute {
  return {
    handles: (pathname) => pathname === PAGE || pathname === FEED,
    handle(req, res, url) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        res.end();
        return;
      }
      const views = newestFirst(logSinks);
      if (url.pathname === FEED) return sendJson(res, 200, views);
      const nonce = randomBytes(16).toString('base64');
      const html = pageHtml(views, nonce);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'cache-control': 'no-store',
        // Only our own inline script and style run, and the script may only fetch from this origin.
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'`,
      });
      res.end(req.method === 'HEAD' ? undefined : html);
    },
  };
}
