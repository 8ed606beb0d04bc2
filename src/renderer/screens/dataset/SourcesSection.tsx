// Files and folders of the dataset: native pickers, or a typed path; include/exclude globs;
// symlinks; and the live preview beside them.
import { useState } from 'react';
import type { DatasetDefinition } from '../../../shared/dataset-definition.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { Field } from '../../components/Field.js';
import { PreviewPanel } from './PreviewPanel.js';
import { usePreview } from './use-preview.js';

interface Props {
  def: DatasetDefinition;
  change(patch: Partial<DatasetDefinition>): void;
  errorOf(field: string): string | undefined;
}

const lines = (text: string) => text.split(/\r?\n/);

export function SourcesSection({ def, change, errorOf }: Props) {
  const client = useClient();
  const [typed, setTyped] = useState('');
  const [pickError, setPickError] = useState<string | null>(null);
  const preview = usePreview(def.sources, def.include, def.exclude, def.followSymlinks);

  const add = (paths: string[]) => {
    const fresh = paths.map((p) => p.trim()).filter((p) => p && !def.sources.includes(p));
    if (fresh.length) change({ sources: [...def.sources, ...fresh] });
  };
  const addTyped = () => {
    add([typed]);
    setTyped('');
  };
  const pick = async (kind: 'files' | 'folders') => {
    setPickError(null);
    try {
      add(await client.call('shell.pickPaths', { kind }));
    } catch (e) {
      setPickError(errorInfoOf(e).message);
    }
  };
  const sourcesError =
    errorOf('sources') ??
    def.sources.map((_, i) => errorOf(`sources.${i}`)).find(Boolean) ??
    (preview.error?.field?.startsWith('sources') ? preview.error.message : undefined);

  return (
    <fieldset className="form-section">
      <legend>Files and folders</legend>
      <div className="two-columns">
        <div>
          <div className={`field${sourcesError ? ' field--error' : ''}`} data-field="sources">
            <div className="field__label-row">
              <span className="field__label" id="sources-label">
                Sources
              </span>
              <span className="field__required" aria-hidden="true">
                *
              </span>
            </div>
            {def.sources.length ? (
              <ul className="source-list" aria-labelledby="sources-label">
                {def.sources.map((s, i) => (
                  <li key={s}>
                    <code>{s}</code>
                    <button
                      type="button"
                      className="button button--quiet"
                      aria-label={`Remove ${s}`}
                      onClick={() => change({ sources: def.sources.filter((_, j) => j !== i) })}
                    >
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No files or folders yet.</p>
            )}
            <div className="button-row">
              <button type="button" className="button" onClick={() => void pick('folders')}>
                Add folders…
              </button>
              <button type="button" className="button" onClick={() => void pick('files')}>
                Add files…
              </button>
            </div>
            {sourcesError ? (
              <p className="field__error" role="alert">
                {sourcesError}
              </p>
            ) : null}
            {pickError ? (
              <p className="field__error" role="alert">
                {pickError}
              </p>
            ) : null}
          </div>
          {/* Not a nested form: Enter in the path adds it instead of starting the upload. */}
          <div className="inline-form">
            <Field name="typed-path" label="Or type a path">
              <input
                type="text"
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                placeholder="/data/visit-7/run-042"
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addTyped();
                  }
                }}
              />
            </Field>
            <button type="button" className="button" disabled={!typed.trim()} onClick={addTyped}>
              Add path
            </button>
          </div>
          <Field
            name="include"
            label="Include only"
            hint="Globs, one per line: a name matches at any depth (*.h5), a path from the dataset root (raw/*.h5). Empty: everything."
            error={errorOf('include') ?? (preview.error?.field === 'include' ? preview.error.message : undefined)}
          >
            <textarea rows={2} value={def.include.join('\n')} onChange={(e) => change({ include: lines(e.target.value) })} />
          </Field>
          <Field
            name="exclude"
            label="Exclude"
            hint="e.g. *.log or scratch; dot files, *.tmp, *.part and ~* are left out already."
            error={errorOf('exclude') ?? (preview.error?.field === 'exclude' ? preview.error.message : undefined)}
          >
            <textarea rows={2} value={def.exclude.join('\n')} onChange={(e) => change({ exclude: lines(e.target.value) })} />
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={def.followSymlinks} onChange={(e) => change({ followSymlinks: e.target.checked })} />
            Follow symbolic links (loop-safe); otherwise they are reported and skipped
          </label>
        </div>
        <PreviewPanel state={preview} />
      </div>
    </fieldset>
  );
}
