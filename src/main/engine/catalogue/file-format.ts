// File formats by extension, for the local catalogue (LAMBDA-BER `file_format`), the catalogues'
// format hints and RO-Crate `encodingFormat` (a MIME type where one is registered, else the
// format name, which RO-Crate allows as free text).

export interface FileFormat {
  /** LAMBDA-BER style format name: hdf5, cbf, mrc, tiff, … */
  format: string;
  /** MIME type, or a descriptive text when none is registered. */
  mime: string;
}

const FORMATS: Record<string, FileFormat> = {
  h5: { format: 'h5', mime: 'application/x-hdf5' },
  hdf5: { format: 'hdf5', mime: 'application/x-hdf5' },
  hdf: { format: 'hdf5', mime: 'application/x-hdf5' },
  nxs: { format: 'hdf5', mime: 'application/x-hdf5' },
  cbf: { format: 'cbf', mime: 'chemical/x-cif' },
  cif: { format: 'cif', mime: 'chemical/x-cif' },
  mrc: { format: 'mrc', mime: 'application/octet-stream' },
  mrcs: { format: 'mrc', mime: 'application/octet-stream' },
  st: { format: 'mrc', mime: 'application/octet-stream' },
  tif: { format: 'tiff', mime: 'image/tiff' },
  tiff: { format: 'tiff', mime: 'image/tiff' },
  eer: { format: 'eer', mime: 'application/octet-stream' },
  star: { format: 'star', mime: 'text/plain' },
  mtz: { format: 'mtz', mime: 'application/octet-stream' },
  edf: { format: 'edf', mime: 'application/octet-stream' },
  dat: { format: 'dat', mime: 'text/plain' },
  txt: { format: 'txt', mime: 'text/plain' },
  log: { format: 'txt', mime: 'text/plain' },
  csv: { format: 'csv', mime: 'text/csv' },
  json: { format: 'json', mime: 'application/json' },
  xml: { format: 'xml', mime: 'application/xml' },
  png: { format: 'png', mime: 'image/png' },
  jpg: { format: 'jpeg', mime: 'image/jpeg' },
  jpeg: { format: 'jpeg', mime: 'image/jpeg' },
  pdb: { format: 'pdb', mime: 'chemical/x-pdb' },
  mmcif: { format: 'mmcif', mime: 'chemical/x-mmcif' },
  zip: { format: 'zip', mime: 'application/zip' },
  gz: { format: 'gzip', mime: 'application/gzip' },
};

/** The format of a path by its extension, or null when unknown. */
export function fileFormatOf(path: string): FileFormat | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  return FORMATS[name.slice(dot + 1).toLowerCase()] ?? null;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
