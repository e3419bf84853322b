import { useEffect, useState } from 'preact/hooks';
import { apiKey } from './api.ts';
import { Analytics } from './analytics.tsx';
import { Feed } from './feed.tsx';
import { FilterBar } from './filter-bar.tsx';
import { filtersQuery, readFilters, type BoardFilters } from './filters.ts';
import { KeyPrompt } from './key-prompt.tsx';
import { Pools } from './pools.tsx';
import { useBoard } from './use-board.ts';
import { Wall } from './wall.tsx';

/** A clock for ETAs and "red for": one repaint a second. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function App() {
  const [filters, setFilters] = useState<BoardFilters>(() => readFilters(location.search));
  const [key, setKey] = useState<string | null>(() => apiKey.get());
  const [prompt, setPrompt] = useState<{ message: string | null } | null>(null);
  const board = useBoard(prompt === null, key, filters, (message) => {
    // Without a key: the gateway wants one. With one: it refused it; ask again, saying why.
    setPrompt({ message: key ? `The gateway refused this API key: ${message}` : null });
    apiKey.clear();
    setKey(null);
  });
  const now = useNow();
  const loaded = board.model !== null;
  useEffect(() => {
    if (loaded) performance.mark('board-first-render');
  }, [loaded]);

  const show = (next: BoardFilters) => {
    history.replaceState(null, '', `${location.pathname}${filtersQuery(next)}`);
    setFilters(next);
  };
  const tab = (view: BoardFilters['view'], label: string) => (
    <a href={filtersQuery({ ...filters, view })} aria-current={filters.view === view ? 'page' : undefined} onClick={(e) => { e.preventDefault(); show({ ...filters, view }); }}>{label}</a>
  );

  return (
    <div class="board" data-loaded={loaded ? 'yes' : 'no'}>
      <header class="top">
        <h1>Switchyard board</h1>
        <nav>{tab('wall', 'Wall')} {tab('analytics', 'Analytics')}</nav>
        <span class="link" data-link={board.live ? 'up' : 'down'}>{board.live ? '● live' : '○ connecting…'}</span>
      </header>
      {prompt ? (
        <KeyPrompt message={prompt.message} onKey={(k) => { apiKey.set(k); setKey(k); setPrompt(null); }} />
      ) : (
        <>
          <FilterBar filters={filters} backends={board.backends} onChange={show} />
          {board.error && <p class="error" role="alert">{board.error}</p>}
          {!board.model || !board.api ? <p>Loading the board…</p> : filters.view === 'analytics' ? (
            <Analytics api={board.api} filters={filters} />
          ) : (
            <div class="columns">
              <div>
                <Wall model={board.model} now={now} />
                <Pools model={board.model} history={board.pressure} />
              </div>
              <Feed feed={board.model.feed} />
            </div>
          )}
        </>
      )}
    </div>
  );
}
