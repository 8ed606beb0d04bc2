// Technique templates shipped with Beamdrop: SAXS, MX and cryo-EM. They are compiled in (not
// files beside the program) so the CLI and the packaged app always have them; a facility profile
// overrides one by defining the same name under `techniques:`, extends one with `extends:`, and
// adds new techniques the same way — configuration only, no code.
// Only what every facility records is required; everything else is typed, ranged and unit-bearing.
import { techniqueSchema, type TechniqueTemplate } from '../../../../shared/profile-catalogue-schema.js';

const SAXS = {
  description: 'Small-angle X-ray scattering (solution or material)',
  fields: [
    { name: 'sample', type: 'string', required: true, description: 'Sample name as on the proposal' },
    { name: 'energy', type: 'number', unit: 'keV', min: 1, max: 100 },
    { name: 'wavelength', type: 'number', unit: 'Å', min: 0.01, max: 20 },
    { name: 'detector_distance', type: 'number', unit: 'mm', min: 1 },
    { name: 'exposure_time', type: 'number', unit: 's', min: 0 },
    { name: 'number_of_frames', type: 'integer', min: 1 },
    { name: 'temperature', type: 'number', unit: 'K', min: 0 },
    { name: 'concentration', type: 'number', unit: 'mg/ml', min: 0 },
    { name: 'buffer', type: 'string', description: 'Buffer composition, e.g. 50 mM HEPES pH 7.5' },
    {
      name: 'sample_environment',
      type: 'string',
      allowed: ['capillary', 'flow-cell', 'plate', 'sec-saxs', 'stopped-flow', 'other'],
    },
  ],
};

const MX = {
  description: 'Macromolecular crystallography (rotation data collection)',
  fields: [
    { name: 'sample', type: 'string', required: true, description: 'Crystal or sample name' },
    { name: 'energy', type: 'number', unit: 'keV', min: 3, max: 40 },
    { name: 'wavelength', type: 'number', unit: 'Å', min: 0.3, max: 4 },
    { name: 'detector_distance', type: 'number', unit: 'mm', min: 1 },
    { name: 'oscillation_range', type: 'number', unit: 'deg', min: 0, max: 360 },
    { name: 'start_angle', type: 'number', unit: 'deg' },
    { name: 'number_of_images', type: 'integer', min: 1 },
    { name: 'exposure_time', type: 'number', unit: 's', min: 0 },
    { name: 'transmission', type: 'number', unit: '%', min: 0, max: 100 },
    { name: 'beam_size_x', type: 'number', unit: 'µm', min: 0 },
    { name: 'beam_size_y', type: 'number', unit: 'µm', min: 0 },
    { name: 'temperature', type: 'number', unit: 'K', min: 0, default: 100 },
    { name: 'space_group', type: 'string' },
    { name: 'experiment_type', type: 'string', allowed: ['OSC', 'SAD', 'MAD', 'Helical', 'Mesh', 'Characterisation'] },
  ],
};

/** Field names follow the ESRF cryo-ET parameter list (acquisition part). */
const CRYO_EM = {
  description: 'Cryo-electron microscopy and tomography (single particle, cryo-ET)',
  fields: [
    { name: 'sample', type: 'string', required: true, description: 'Grid or sample name' },
    { name: 'voltage', type: 'number', unit: 'kV', required: true, allowed: [80, 100, 120, 200, 300] },
    { name: 'magnification', type: 'integer', required: true, min: 1 },
    { name: 'pixel_size', type: 'number', unit: 'Å', required: true, min: 0 },
    { name: 'dose', type: 'number', unit: 'e-/Å²', required: true, min: 0, description: 'Total dose' },
    { name: 'dose_per_frame', type: 'number', unit: 'e-/Å²', min: 0 },
    { name: 'number_of_frames', type: 'integer', min: 1 },
    { name: 'exposure_time', type: 'number', unit: 's', min: 0 },
    { name: 'defocus_min', type: 'number', unit: 'µm' },
    { name: 'defocus_max', type: 'number', unit: 'µm' },
    { name: 'tilt_angle_min', type: 'number', unit: 'deg', min: -90, max: 90 },
    { name: 'tilt_angle_max', type: 'number', unit: 'deg', min: -90, max: 90 },
    { name: 'tilt_angle_step', type: 'number', unit: 'deg', min: 0, max: 90 },
    { name: 'tilt_scheme', type: 'string', allowed: ['dose-symmetric', 'bidirectional', 'unidirectional'] },
    { name: 'spherical_aberration', type: 'number', unit: 'mm', min: 0, default: 2.7 },
    { name: 'amplitude_contrast', type: 'number', min: 0, max: 1, default: 0.1 },
    { name: 'energy_filter_slit', type: 'number', unit: 'eV', min: 0 },
    { name: 'detector', type: 'string', allowed: ['K2', 'K3', 'Falcon 3', 'Falcon 4', 'Falcon 4i', 'Ceta', 'other'] },
    { name: 'acquisition_software', type: 'string', allowed: ['EPU', 'Tomo', 'SerialEM', 'Leginon', 'other'] },
  ],
};

/** Parsed through the profile's own schema, so built-ins obey the same rules as configured ones. */
export const BUILTIN_TECHNIQUES: Readonly<Record<string, TechniqueTemplate>> = Object.freeze({
  SAXS: techniqueSchema.parse(SAXS),
  MX: techniqueSchema.parse(MX),
  'cryo-EM': techniqueSchema.parse(CRYO_EM),
});
