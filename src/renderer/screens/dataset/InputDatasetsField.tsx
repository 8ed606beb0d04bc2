// The input datasets of a derived dataset: picked from the datasets in the local catalogue
// (suggested while typing) or typed, each removable.
import { useEffect, useId, useState } from 'react';
import { useClient } from '../../app/client-context.js';
import { Field } from '../../components/Field.js';

interface Props {
  value: string[];
  change(next: string[]): void;
  error: string | undefined;
}

export function InputDatasetsField({ value, change, error }: Props) {
  const client = useClient();
  const listId = useId();
  const [typed, setTyped] = useState('');
  const [known, setKnown] = useState<string[]>([]);
  const chosen = value.filter((v) => v.trim());

  useEffect(() => {
    let current = true;
    const t = setTimeout(() => {
      client.call('history.search', { query: typed }).then(
        (r) => {
          if (current) setKnown(r.map((d) => d.name));
        },
        () => undefined,
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [client, typed]);

  const add = () => {
    const name = typed.trim();
    if (name && !chosen.includes(name)) change([...chosen, name]);
    setTyped('');
  };

  return (
    <div className="input-datasets">
      <Field
        name="inputDatasets"
        label="Input datasets"
        required
        hint="The datasets it was made from; suggestions come from History"
        error={error}
      >
        <input
          type="text"
          list={listId}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
      </Field>
      <datalist id={listId}>
        {known
          .filter((k) => !chosen.includes(k))
          .slice(0, 50)
          .map((k) => (
            <option key={k} value={k} />
          ))}
      </datalist>
      <button type="button" className="button" disabled={!typed.trim()} onClick={add}>
        Add input
      </button>
      {chosen.length ? (
        <ul className="source-list" aria-label="Input datasets">
          {chosen.map((name) => (
            <li key={name}>
              <code>{name}</code>
              <button
                type="button"
                className="button button--quiet"
                aria-label={`Remove ${name}`}
                onClick={() => change(chosen.filter((c) => c !== name))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
