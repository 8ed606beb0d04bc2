// Technique templates (built-in and the profile's, resolved by the engine) as the dataset form
// shows them: fields in order, readable labels, allowed values as a choice, defaults pre-filled.
import type { TechniqueTemplateView, TemplateFieldView } from '../../shared/app-model.js';
import type { TechniqueField } from '../../shared/profile-catalogue-schema.js';

export function fieldView(f: TechniqueField): TemplateFieldView {
  const allowed = f.allowed?.map(String);
  const view: TemplateFieldView = {
    key: f.name,
    label: labelOf(f.name),
    type: allowed && f.type === 'string' ? 'enum' : f.type,
    required: f.required,
  };
  if (f.unit) view.unit = f.unit;
  if (allowed) view.allowed = allowed;
  if (f.min !== undefined) view.min = f.min;
  if (f.max !== undefined) view.max = f.max;
  if (f.description) view.description = f.description;
  if (f.default !== undefined) view.default = String(f.default);
  return view;
}

/** "exposure_time" → "Exposure time": templates name fields for machines. */
export function labelOf(name: string): string {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One template as the form shows it, from the engine's resolved fields (parents first). */
export function templateView(name: string, description: string | undefined, fields: TechniqueField[]): TechniqueTemplateView {
  return { id: name, name, ...(description ? { description } : {}), fields: fields.map(fieldView) };
}
