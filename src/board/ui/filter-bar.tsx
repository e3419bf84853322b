import type { BoardFilters } from './filters.ts';
import type { BackendRef } from './types.ts';

/** The filters, applied on submit and written to the URL by the caller. */
export function FilterBar({ filters, backends, onChange }: { filters: BoardFilters; backends: readonly BackendRef[]; onChange: (f: BoardFilters) => void }) {
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const get = (k: string) => String(form.get(k) ?? '').trim();
        onChange({ ...filters, backend: get('backend'), project: get('project'), branch: get('branch'), label: get('label') });
      }}
    >
      <label>Backend <select name="backend" value={filters.backend}>
        <option value="">all</option>
        {backends.map((b) => <option key={b.name} value={b.name}>{b.name}</option>)}
      </select></label>
      <label>Projects <input name="project" placeholder="acme/**, docs" value={filters.project} /></label>
      <label>Branch <input name="branch" placeholder="default branch" value={filters.branch} /></label>
      <label>Runner label <input name="label" placeholder="any" value={filters.label} /></label>
      <button type="submit">Apply</button>
    </form>
  );
}
