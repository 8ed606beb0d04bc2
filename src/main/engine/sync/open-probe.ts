// The exclusive-open check. On Windows the file is opened with no sharing at all
// (libuv's UV_FS_O_EXLOCK): it fails with a sharing violation while any other program still has
// it open, which is how Windows acquisition software that keeps a file open is detected. The
// handle is closed at once; it is only taken after the quiet period, so the writer is not
// disturbed while it writes. Elsewhere the open only proves the file is readable (Linux and macOS
// have no mandatory locks that tell an open writer apart).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { openVerdict, type OpenProbe } from './completeness.js';

/** libuv's flag for an exclusive open on Windows (share mode 0); Node passes it through. */
const UV_FS_O_EXLOCK = 0x10000000;

export function exclusiveOpenFlags(platform: NodeJS.Platform): number {
  return platform === 'win32' ? constants.O_RDONLY | UV_FS_O_EXLOCK : constants.O_RDONLY;
}

export async function probeOpen(
  path: string,
  platform: NodeJS.Platform = process.platform,
): Promise<{ probe: OpenProbe; code: string | null }> {
  try {
    const handle = await open(path, exclusiveOpenFlags(platform));
    await handle.close();
    return { probe: 'free', code: null };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    return { probe: openVerdict(code), code };
  }
}
