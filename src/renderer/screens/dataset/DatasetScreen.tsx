// Dataset definition: investigation and visit, name and description, technique metadata from its
// template, raw or derived, files and folders with a live preview, mode and destination. The
// shared validation runs on every change; errors show next to their field once it was touched
// (or on Start), and nothing starts while one remains.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { DestinationView, InvestigationView, TechniqueTemplateView } from '../../../shared/app-model.js';
import { emptyDefinition, validateDefinition, type DatasetDefinition } from '../../../shared/dataset-definition.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { InputDatasetsField } from './InputDatasetsField.js';
import { MetadataFields } from './MetadataFields.js';
import { ModeDestination } from './ModeDestination.js';
import { SourcesSection } from './SourcesSection.js';

interface Props {
  investigation: InvestigationView;
  onChangeInvestigation(): void;
  onStarted(jobId: number): void;
}

/** Errors of the destination itself (unreachable, credentials) belong next to the destination. */
function fieldOfServerError(e: ErrorInfo): string | null {
  if (e.field) return e.field;
  if (e.code.startsWith('destination-') || e.code.startsWith('credentials-')) return 'destination';
  return null;
}

export function DatasetScreen({ investigation, onChangeInvestigation, onStarted }: Props) {
  const client = useClient();
  const [def, setDef] = useState<DatasetDefinition>(() => ({ ...emptyDefinition(), investigation: investigation.id }));
  const [templates, setTemplates] = useState<TechniqueTemplateView[]>([]);
  const [templatesNote, setTemplatesNote] = useState<ErrorInfo | null>(null);
  const [destinations, setDestinations] = useState<DestinationView[]>([]);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<ErrorInfo | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    client.call('techniques.list', undefined).then(setTemplates, (e: unknown) => setTemplatesNote(errorInfoOf(e)));
    client.call('settings.get', undefined).then(
      (s) => {
        setDestinations(s.destinations);
        setDef((d) => (d.destination ? d : { ...d, destination: s.defaultDestination ?? '' }));
      },
      (e: unknown) => setServerError(errorInfoOf(e)),
    );
  }, [client]);
  useEffect(() => setDef((d) => ({ ...d, investigation: investigation.id })), [investigation.id]);

  const template = templates.find((t) => t.id === def.technique) ?? null;
  const errors = useMemo(
    () => validateDefinition(def, { template, destinations: destinations.map((d) => d.name) }),
    [def, template, destinations],
  );
  const serverField = serverError ? fieldOfServerError(serverError) : null;
  const errorOf = (field: string): string | undefined => {
    if (serverError && serverField === field) return serverError.message;
    if (!submitted && !touched.has(field)) return undefined;
    return errors.find((e) => e.field === field)?.message;
  };
  const touch = (field: string) => setTouched((t) => (t.has(field) ? t : new Set(t).add(field)));
  const change = (patch: Partial<DatasetDefinition>) => {
    setDef((d) => ({ ...d, ...patch }));
    for (const k of Object.keys(patch)) touch(k);
    setServerError(null);
  };
  const chooseTechnique = (id: string) => {
    const t = templates.find((x) => x.id === id) ?? null;
    const defaults = Object.fromEntries((t?.fields ?? []).filter((f) => f.default !== undefined).map((f) => [f.key, f.default!]));
    change({ technique: id || null, metadata: { ...defaults, ...def.metadata } });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    const first = errors[0];
    if (first) {
      focusField(first.field);
      return;
    }
    setBusy(true);
    try {
      const { jobId } = await client.call('jobs.start', { definition: def });
      onStarted(jobId);
    } catch (err) {
      const info = errorInfoOf(err);
      setServerError(info);
      const f = fieldOfServerError(info);
      if (f) focusField(f);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="screen dataset-form" onSubmit={(e) => void submit(e)} noValidate aria-busy={busy}>
      <ScreenHeader title="New dataset" />
      <fieldset className="form-section">
        <legend>Investigation</legend>
        <div className="investigation-line">
          <span>
            <strong>{investigation.id}</strong>
            {investigation.title ? ` — ${investigation.title}` : ''}
          </span>
          <button type="button" className="button button--quiet" onClick={onChangeInvestigation}>
            Change
          </button>
        </div>
        {errorOf('investigation') ? (
          <p className="field__error" role="alert">
            {errorOf('investigation')}
          </p>
        ) : null}
        <Field
          name="visit"
          label="Visit / session"
          hint="Optional; part of the storage path when the profile uses {visit}"
          error={errorOf('visit')}
        >
          <input type="text" value={def.visit} onChange={(e) => change({ visit: e.target.value })} />
        </Field>
      </fieldset>
      <fieldset className="form-section">
        <legend>Dataset</legend>
        <Field name="name" label="Name" required error={errorOf('name')}>
          <input type="text" value={def.name} onChange={(e) => change({ name: e.target.value })} onBlur={() => touch('name')} />
        </Field>
        <Field name="description" label="Description">
          <textarea rows={2} value={def.description} onChange={(e) => change({ description: e.target.value })} />
        </Field>
        <Field
          name="sample"
          label="Sample"
          required={template?.fields.some((f) => f.key === 'sample' && f.required) ?? false}
          error={errorOf('sample')}
          hint={template?.fields.find((f) => f.key === 'sample')?.description}
        >
          <input
            type="text"
            value={def.sample}
            onChange={(e) => change({ sample: e.target.value })}
            onBlur={() => touch('sample')}
          />
        </Field>
        <div className="radio-row" role="radiogroup" aria-label="Dataset type">
          <label className="radio">
            <input type="radio" name="type" checked={def.type === 'raw'} onChange={() => change({ type: 'raw' })} /> Raw data
          </label>
          <label className="radio">
            <input type="radio" name="type" checked={def.type === 'derived'} onChange={() => change({ type: 'derived' })} />{' '}
            Derived (processed from other datasets)
          </label>
        </div>
        {def.type === 'derived' ? (
          <InputDatasetsField
            value={def.inputDatasets}
            change={(inputDatasets) => change({ inputDatasets })}
            error={errorOf('inputDatasets')}
          />
        ) : null}
      </fieldset>
      <fieldset className="form-section">
        <legend>Technique and metadata</legend>
        <Field
          name="technique"
          label="Technique"
          error={errorOf('technique')}
          hint={templatesNote ? templatesNote.message : template?.description}
        >
          <select value={def.technique ?? ''} onChange={(e) => chooseTechnique(e.target.value)}>
            <option value="">(no technique template)</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <MetadataFields
          template={template}
          values={def.metadata}
          errorOf={errorOf}
          touch={touch}
          set={(key, value) => {
            setDef((d) => ({ ...d, metadata: { ...d.metadata, [key]: value } }));
            setServerError(null);
          }}
        />
      </fieldset>
      <SourcesSection def={def} change={change} errorOf={errorOf} />
      <ModeDestination def={def} change={change} errorOf={errorOf} destinations={destinations} />
      {serverError && !serverField ? <ErrorBanner error={serverError} /> : null}
      <div className="form__actions form__actions--sticky">
        {submitted && errors.length ? (
          <span className="text-error" role="status">
            {errors.length} problem{errors.length === 1 ? '' : 's'} to fix before the upload can start
          </span>
        ) : null}
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Starting…' : def.mode === 'sync' ? 'Start sync session' : 'Start upload'}
        </button>
      </div>
    </form>
  );
}

function focusField(field: string): void {
  const root =
    document.querySelector(`[data-field="${CSS.escape(field)}"]`) ??
    document.querySelector(`[data-field="${CSS.escape(field.split('.')[0]!)}"]`);
  const control = root?.querySelector<HTMLElement>('input, select, textarea, button');
  control?.focus();
  root?.scrollIntoView({ block: 'center' });
}
