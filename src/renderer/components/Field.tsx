// A labelled form control with its hint and its error right below it, wired for screen readers
// (aria-describedby, aria-invalid). Every input of the app goes through this.
import { useId, type ReactElement, type ReactNode } from 'react';
import { cloneElement } from 'react';

interface FieldProps {
  label: ReactNode;
  /** Shown under the control while there is no error. */
  hint?: ReactNode;
  error?: string | undefined;
  /** Unit shown after the control, e.g. "keV". */
  unit?: string | undefined;
  required?: boolean;
  children: ReactElement<Record<string, unknown>>;
  /** Used by tests and focus management: data-field on the wrapper. */
  name: string;
  /** A short value (a number of seconds): the control does not stretch. */
  narrow?: boolean;
}

export function Field({ label, hint, error, unit, required, children, name, narrow }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const control = cloneElement(children, {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': required || undefined,
  });
  return (
    <div className={`field${error ? ' field--error' : ''}${narrow ? ' field--narrow' : ''}`} data-field={name}>
      {/* The asterisk stays outside the label: the accessible name is the label alone, "required"
          comes from aria-required. */}
      <div className="field__label-row">
        <label htmlFor={id} className="field__label">
          {label}
        </label>
        {required ? (
          <span className="field__required" aria-hidden="true">
            *
          </span>
        ) : null}
      </div>
      <div className="field__control">
        {control}
        {unit ? <span className="field__unit">{unit}</span> : null}
      </div>
      {error ? (
        <p id={errorId} className="field__error" role="alert">
          {error}
        </p>
      ) : null}
      {hint ? (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
