// Batch or sync (with the rule that says when a file is complete), and the destination with the
// state of its credentials.
import { useState } from 'react';
import type { DestinationView } from '../../../shared/app-model.js';
import type { DatasetDefinition } from '../../../shared/dataset-definition.js';
import { Field } from '../../components/Field.js';

interface Props {
  def: DatasetDefinition;
  change(patch: Partial<DatasetDefinition>): void;
  errorOf(field: string): string | undefined;
  destinations: DestinationView[];
}

export function ModeDestination({ def, change, errorOf, destinations }: Props) {
  const modeError = errorOf('mode');
  // The typed text, so "0." or "" can be typed on the way to "0.5"; the number follows it.
  const [quiet, setQuietText] = useState(String(def.completeness.quietSeconds));
  const setQuiet = (text: string) => {
    setQuietText(text);
    const n = Number(text.replace(',', '.'));
    change({ completeness: { ...def.completeness, quietSeconds: text.trim() && Number.isFinite(n) ? n : Number.NaN } });
  };
  const chosen = destinations.find((d) => d.name === def.destination);
  return (
    <>
      <fieldset className="form-section" data-field="mode" aria-describedby={modeError ? 'mode-error' : undefined}>
        <legend>Mode</legend>
        <label className="radio">
          <input
            type="radio"
            name="mode"
            value="batch"
            checked={def.mode === 'batch'}
            onChange={() => change({ mode: 'batch' })}
          />
          <span>
            <strong>Batch</strong> — upload everything under the sources once, after the experiment
          </span>
        </label>
        <label className="radio">
          <input type="radio" name="mode" value="sync" checked={def.mode === 'sync'} onChange={() => change({ mode: 'sync' })} />
          <span>
            <strong>Sync</strong> — during acquisition, watch the folders and send each file once it is complete
          </span>
        </label>
        {modeError ? (
          <p id="mode-error" className="field__error" role="alert">
            {modeError}
          </p>
        ) : null}
        {def.mode === 'sync' ? (
          <div className="completeness">
            <p className="muted">
              A file is sent once it is complete. Stop the acquisition from Activity: what is complete is still sent, then the
              dataset is finalised.
            </p>
            <Field
              name="completeness.quietSeconds"
              label="Complete after"
              unit="s without change"
              narrow
              error={errorOf('completeness.quietSeconds')}
            >
              <input type="text" inputMode="decimal" value={quiet} onChange={(e) => setQuiet(e.target.value)} />
            </Field>
            <div className="two-columns">
              <Field
                name="completeness.markerMatch"
                label="Files waiting for a marker"
                hint="Regular expression on the name, e.g. (.*)\.h5; empty: no marker"
                error={errorOf('completeness.markerMatch')}
              >
                <input
                  type="text"
                  value={def.completeness.markerMatch}
                  onChange={(e) => change({ completeness: { ...def.completeness, markerMatch: e.target.value } })}
                />
              </Field>
              <Field
                name="completeness.marker"
                label="…are complete once this file exists"
                hint="e.g. $1.done ($1 is the first group)"
                error={errorOf('completeness.marker')}
              >
                <input
                  type="text"
                  value={def.completeness.marker}
                  onChange={(e) => change({ completeness: { ...def.completeness, marker: e.target.value } })}
                />
              </Field>
            </div>
          </div>
        ) : null}
      </fieldset>
      <fieldset className="form-section">
        <legend>Destination</legend>
        <Field
          name="destination"
          label="Send to"
          required
          error={errorOf('destination')}
          hint={
            chosen
              ? `${chosen.kind} · ${chosen.location}${chosen.credential === 'missing' ? ' · secret missing: set it in Settings' : ''}`
              : undefined
          }
        >
          <select value={def.destination} onChange={(e) => change({ destination: e.target.value })}>
            <option value="">Choose…</option>
            {destinations.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} ({d.kind}
                {d.credential === 'missing' ? ', secret missing' : ''})
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
    </>
  );
}
