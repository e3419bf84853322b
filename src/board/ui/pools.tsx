import { duration, providerName } from './format.ts';
import type { BoardModel } from './model.ts';

/** A tiny SVG line: no chart library needed for 24 points. */
function Sparkline({ values, title }: { values: readonly number[]; title: string }) {
  if (values.length < 2) return <span class="spark-empty">—</span>;
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${((i / (values.length - 1)) * 100).toFixed(1)},${(24 - (v / max) * 22).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" viewBox="0 0 100 25" preserveAspectRatio="none" role="img" aria-label={title}>
      <title>{title}</title>
      <polyline points={points} />
    </svg>
  );
}

/** Runner pools: who can take work, what waits, and the queue pressure over the last day. */
export function Pools({ model, history }: { model: BoardModel; history: ReadonlyMap<string, number[]> }) {
  const pools = [...model.pools.values()].sort((a, b) => b.queue.depth - a.queue.depth || a.key.localeCompare(b.key));
  return (
    <section class="pools" aria-label="runner pools">
      <h2>Runner pools</h2>
      {pools.length === 0 ? <p class="empty">No runner pool matches these filters.</p> : (
        <table>
          <thead><tr><th>Pool</th><th>Online</th><th>Busy</th><th>Idle</th><th>Offline</th><th>Queued</th><th>Oldest wait</th><th>Queue pressure</th></tr></thead>
          <tbody>
            {pools.map((pool) => {
              const past = history.get(pool.key);
              const values = past && past.length > 1 ? past : (model.pressure.get(pool.key) ?? []);
              return (
                <tr key={pool.key} data-pool={pool.key} class={pool.queue.depth > 0 ? 'queued' : ''}>
                  <td>{providerName(pool.backend.provider)} · {pool.labels.length ? pool.labels.join(', ') : 'any runner'}{pool.hosted ? ' (hosted)' : ''}</td>
                  <td>{pool.runners?.online ?? '–'}</td>
                  <td>{pool.runners?.busy ?? '–'}</td>
                  <td>{pool.runners?.idle ?? '–'}</td>
                  <td>{pool.runners?.offline ?? '–'}</td>
                  <td>{pool.queue.depth}</td>
                  <td>{pool.queue.oldestWaitSeconds !== null ? duration(pool.queue.oldestWaitSeconds) : '–'}</td>
                  <td><Sparkline values={values} title={past && past.length > 1 ? 'jobs queued per hour, last 24 h' : 'queue depth since the board opened'} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
