// The technique's metadata form: the template decides the fields, their type, unit, allowed
// values and whether they are required; each error sits under its field.
import type { TechniqueTemplateView, TemplateFieldView } from '../../../shared/app-model.js';
import { FORM_KEYS } from '../../../shared/dataset-definition.js';
import { Field } from '../../components/Field.js';

interface Props {
  template: TechniqueTemplateView | null;
  values: Record<string, string>;
  set(key: string, value: string): void;
  errorOf(field: string): string | undefined;
  touch(field: string): void;
}

export function MetadataFields({ template, values, set, errorOf, touch }: Props) {
  if (!template) return <p className="muted">Choose a technique to fill in its metadata.</p>;
  // Sample and description are fields of the form itself.
  const fields = template.fields.filter((f) => !FORM_KEYS[f.key]);
  if (!fields.length) return <p className="muted">The {template.name} template asks for no further metadata.</p>;
  return (
    <div className="metadata-grid">
      {fields.map((f) => (
        <Field
          key={f.key}
          name={`metadata.${f.key}`}
          label={f.label}
          unit={f.unit}
          required={f.required}
          hint={hintOf(f)}
          error={errorOf(`metadata.${f.key}`)}
        >
          {control(
            f,
            values[f.key] ?? '',
            (v) => set(f.key, v),
            () => touch(`metadata.${f.key}`),
          )}
        </Field>
      ))}
    </div>
  );
}

function control(f: TemplateFieldView, value: string, onChange: (v: string) => void, onBlur: () => void) {
  if (f.type === 'enum' || (f.allowed && f.allowed.length)) {
    return (
      <select value={value} onChange={(e) => onChange(e.target.value)} onBlur={onBlur}>
        <option value="">{f.required ? 'Choose…' : '(none)'}</option>
        {(f.allowed ?? []).map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
    );
  }
  if (f.type === 'boolean') {
    return (
      <select value={value} onChange={(e) => onChange(e.target.value)} onBlur={onBlur}>
        <option value="">{f.required ? 'Choose…' : '(not set)'}</option>
        <option value="true">Yes</option>
        <option value="false">No</option>
      </select>
    );
  }
  if (f.type === 'date') return <input type="date" value={value} onChange={(e) => onChange(e.target.value)} onBlur={onBlur} />;
  if (f.type === 'number' || f.type === 'integer') {
    // Text with a numeric keyboard, not type=number: the browser would silently drop "12,4".
    return (
      <input
        type="text"
        inputMode={f.type === 'integer' ? 'numeric' : 'decimal'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onBlur={onBlur}
      />
    );
  }
  return <input type="text" value={value} onChange={(e) => onChange(e.target.value)} onBlur={onBlur} />;
}

function hintOf(f: TemplateFieldView): string | undefined {
  const range =
    f.min !== undefined && f.max !== undefined
      ? `${f.min}–${f.max}${f.unit ? ` ${f.unit}` : ''}`
      : f.min !== undefined
        ? `at least ${f.min}`
        : f.max !== undefined
          ? `at most ${f.max}`
          : '';
  return [f.description, range].filter(Boolean).join(' · ') || undefined;
}
