// The investigation picker: search the user's proposals (facility catalogue, or those already in
// the local catalogue), pick one, or create one where the profile allows it.
import { useEffect, useState, type FormEvent } from 'react';
import type { InvestigationView, SessionView } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';

export function InvestigationScreen({ session, onPick }: { session: SessionView; onPick(i: InvestigationView): void }) {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<InvestigationView[] | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [newId, setNewId] = useState('');
  const [newTitle, setNewTitle] = useState('');
  const [createError, setCreateError] = useState<ErrorInfo | null>(null);

  useEffect(() => {
    let current = true;
    // Wait for a pause in typing before asking the catalogue.
    const t = setTimeout(() => {
      client
        .call('investigations.search', { query })
        .then((r) => {
          if (current) {
            setResults(r);
            setError(null);
          }
        })
        .catch((e: unknown) => {
          if (current) setError(errorInfoOf(e));
        });
    }, 200);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [client, query]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    try {
      onPick(await client.call('investigations.create', { id: newId.trim(), title: newTitle.trim() }));
    } catch (err) {
      setCreateError(errorInfoOf(err));
    }
  };

  return (
    <section className="screen screen--narrow">
      <ScreenHeader title="Choose the investigation" />
      <p className="lead">
        The dataset is filed under this proposal or experiment
        {session.catalogue.kind === 'local' ? ' in the local catalogue' : ` in ${session.catalogue.name}`}.
      </p>
      <Field name="investigation-search" label="Search investigations" hint="Proposal number, title or principal investigator">
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} autoFocus />
      </Field>
      <ErrorBanner error={error} />
      <div aria-live="polite" className="sr-status">
        {results ? `${results.length} investigation${results.length === 1 ? '' : 's'} found` : 'Searching…'}
      </div>
      {results && results.length ? (
        <ul className="pick-list" aria-label="Investigations">
          {results.map((inv) => (
            <li key={inv.id}>
              <button type="button" className="pick-list__item" onClick={() => onPick(inv)}>
                <span className="pick-list__title">{inv.id}</span>
                <span className="pick-list__detail">
                  {inv.title || (inv.source === 'local' ? 'Local investigation' : '')}
                  {inv.principalInvestigator ? ` · PI ${inv.principalInvestigator}` : ''}
                  {inv.datasets !== undefined ? ` · ${inv.datasets} dataset${inv.datasets === 1 ? '' : 's'}` : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : results ? (
        <p className="empty">No investigation matches{query ? ` “${query}”` : ' yet'}.</p>
      ) : null}
      {session.canCreateInvestigation ? (
        <form className="card form" onSubmit={(e) => void create(e)} aria-labelledby="create-investigation">
          <h2 id="create-investigation">New investigation</h2>
          <Field
            name="id"
            label="Proposal / investigation id"
            required
            hint="Becomes part of the storage path, e.g. MX-2026-0142"
            error={createError?.field === 'id' ? createError.message : undefined}
          >
            <input type="text" value={newId} onChange={(e) => setNewId(e.target.value)} />
          </Field>
          <Field name="title" label="Title">
            <input type="text" value={newTitle} onChange={(e) => setNewTitle(e.target.value)} />
          </Field>
          {createError && createError.field !== 'id' ? <ErrorBanner error={createError} /> : null}
          <div className="form__actions">
            <button type="submit" className="button" disabled={!newId.trim()}>
              Create and use
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
