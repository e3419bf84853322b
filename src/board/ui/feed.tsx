import { STATUS, clock, providerName, safeUrl } from './format.ts';
import type { Transition } from './model.ts';

const KIND = { failed: 'failed', fixed: 'fixed', canceled: 'canceled' } as const;

/** Recent transitions, newest first, each linking to the provider's own page. */
export function Feed({ feed }: { feed: readonly Transition[] }) {
  return (
    <section class="feed" aria-label="recent transitions">
      <h2>Recent transitions</h2>
      {feed.length === 0 ? <p class="empty">Nothing failed, was fixed or canceled since the board opened.</p> : (
        <ol>
          {feed.map(({ key, kind, pipeline: p, at }) => {
            const link = safeUrl(p.url);
            return (
              <li key={key} class={`kind-${kind}`} data-kind={kind} data-pipeline-id={p.id}>
                <span class="status">{STATUS[p.status].icon} {KIND[kind]}</span>{' '}
                <strong>{p.project.fullName}</strong> {p.branch ?? ''} · {p.name ?? 'pipeline'}{p.number !== null ? ` #${p.number}` : ''}{' '}
                <small>{clock(at)}</small>{' '}
                {link && <a href={link} rel="noopener noreferrer" target="_blank">open in {providerName(p.backend.provider)}</a>}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
