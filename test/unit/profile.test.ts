import { describe, expect, it } from 'vitest';
import { checkProfileText } from '../../src/main/engine/profile/load-profile.js';
import { defaultProfile, DEFAULT_DESTINATION } from '../../src/main/engine/profile/default-profile.js';
import { parseDestinationUri, resolveDestination } from '../../src/main/engine/storage/resolve-destination.js';

const good = `
facility: ESRF
beamline: ID02
destinations:
  archive:
    kind: s3
    endpoint: https://s3.facility.example:9000
    bucket: raw-data
    keyTemplate: "{beamline}/{proposal}/{visit}/raw/{dataset}/{relpath}"
    credentials: { accessKeyId: AKIAEXAMPLE }
  dav:
    kind: webdav
    url: https://dav.facility.example/archive
    credentials: { username: operator }
defaultDestination: archive
upload:
  concurrency: 4
  partSize: { min: 8MiB, max: 1GiB }
  bandwidth: "Mon-08:00,20M Mon-20:00,off"
exclude: ["**/*.tmp"]
`;

describe('facility profile', () => {
  it('accepts a complete profile and fills defaults', () => {
    const r = checkProfileText(good);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.profile.upload.partSize).toEqual({ min: 8 * 1024 ** 2, max: 1024 ** 3 });
    expect(r.profile.upload.partConcurrency).toBe(4);
    // The default tells visits apart; without a visit the keys are {proposal}/{dataset}/… as before.
    expect(r.profile.destinations.dav?.keyTemplate).toBe('{proposal}/{visit}/{dataset}/{relpath}');
  });

  it('reports every problem with its field path, line and what to write instead', () => {
    const r = checkProfileText(`
destinations:
  archive:
    kind: s3
    endpoint: not a url
    bucket: Raw_Data
    keyTemplate: "{proposal}/{sample}"
    credentials: { accessKeyId: AK, secretAccessKey: hunter2 }
  other:
    kind: ftp
upload:
  concurrency: 0
  partSize: { min: 1MiB }
  bandwidth: "Mon-8,20M"
defaultDestination: nowhere
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const by = (path: string) =>
      r.problems
        .filter((p) => p.path === path)
        .map((p) => p.message)
        .join(' | ');
    expect(by('destinations.archive.endpoint')).toMatch(/write the S3 endpoint URL/);
    expect(by('destinations.archive.bucket')).toMatch(/lower-case/);
    expect(by('destinations.archive.keyTemplate')).toMatch(/unknown variable \{sample\}/);
    expect(by('destinations.archive.keyTemplate')).toMatch(/\{relpath\}/);
    expect(by('destinations.archive.credentials.secretAccessKey')).toMatch(
      /secrets never go in the profile.*beamdrop credentials set/,
    );
    expect(by('destinations.other.kind')).toMatch(/kind: s3, kind: webdav or kind: filesystem/);
    expect(by('upload.concurrency')).toMatch(/whole number/);
    expect(by('upload.partSize')).toMatch(/at least 5MiB/);
    expect(r.problems.find((p) => p.path === 'destinations.archive.bucket')?.line).toBe(6);
  });

  it('reports a bad bandwidth timetable and YAML syntax errors with a line', () => {
    const bw = checkProfileText('upload:\n  bandwidth: "Mon-8,20M"\n');
    expect(bw).toMatchObject({ ok: false, problems: [{ path: 'upload.bandwidth', message: expect.stringMatching(/HH:MM/) }] });
    const yaml = checkProfileText('destinations:\n  a: [unclosed\n');
    expect(yaml.ok).toBe(false);
    if (!yaml.ok) expect(yaml.problems[0]?.message).toMatch(/YAML syntax/);
  });

  it('rejects unknown fields by name', () => {
    const r = checkProfileText('upload:\n  concurency: 4\n');
    expect(r).toMatchObject({ ok: false, problems: [{ path: 'upload', message: expect.stringMatching(/concurency/) }] });
  });

  it('has an embedded default that stores into a local archive folder', () => {
    const p = defaultProfile('/home/op/.local/share/beamdrop/archive');
    expect(resolveDestination(p, {})).toMatchObject({
      name: DEFAULT_DESTINATION,
      config: { kind: 'filesystem', root: '/home/op/.local/share/beamdrop/archive' },
    });
  });

  it('resolves --to URIs and names unknown destinations with the choices', () => {
    expect(parseDestinationUri('s3+http://127.0.0.1:9000/raw/beamline7')).toMatchObject({
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'raw',
      keyTemplate: 'beamline7/{proposal}/{visit}/{dataset}/{relpath}',
    });
    expect(parseDestinationUri('webdav+https://dav.example/archive/')).toMatchObject({
      kind: 'webdav',
      url: 'https://dav.example/archive',
    });
    expect(parseDestinationUri('/mnt/archive')).toMatchObject({ kind: 'filesystem', root: '/mnt/archive' });
    expect(() => parseDestinationUri('s3+http://key:secret@host/b')).toThrow(/do not put credentials/);
    expect(() => parseDestinationUri('ftp://host/x')).toThrow(/unknown scheme/);
    const r = checkProfileText(good);
    if (!r.ok) throw new Error('fixture');
    expect(() => resolveDestination(r.profile, { destination: 'tape' })).toThrow(/no destination named "tape".*archive, dav/);
  });
});
