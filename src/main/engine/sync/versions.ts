// Names of the versions of a file that changed after it was uploaded. The stored copy is never
// replaced: version N (N ≥ 2) of "dir/scan_001.cbf" is stored as "dir/scan_001.v2.cbf" (the
// suffix goes before the last extension, so the format stays recognisable); a name without an
// extension gets ".vN" at the end.

export function versionedRelpath(relpath: string, version: number): string {
  if (version < 2) return relpath;
  const slash = relpath.lastIndexOf('/');
  const dir = relpath.slice(0, slash + 1);
  const name = relpath.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  // A leading dot starts a hidden name, not an extension.
  if (dot <= 0) return `${dir}${name}.v${version}`;
  return `${dir}${name.slice(0, dot)}.v${version}${name.slice(dot)}`;
}
