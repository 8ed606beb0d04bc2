// The live preview of the dataset form: a dry-run scan with the same scanner, filters and profile
// globs as the job, returning how many files and bytes would be sent and a sample of names. A new
// preview cancels the one still scanning (the operator is typing), and a huge tree answers with
// what it found within the time budget rather than keep the form waiting.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SourcePreview } from '../../shared/app-model.js';
import { BeamdropError } from '../../shared/errors.js';
import type { ScanNote } from '../../shared/model.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import { scan } from '../engine/scan/scanner.js';
import { jobFilters } from '../engine/scan/filters.js';

const SAMPLE = 12;
const NOTES = 20;
/** The form must answer while the operator types; the job's own scan is not limited. */
const BUDGET_MS = 10_000;

export interface PreviewRequest {
  sources: string[];
  include: string[];
  exclude: string[];
  followSymlinks: boolean;
}

export class PreviewService {
  private current: AbortController | null = null;

  constructor(
    private readonly profile: () => FacilityProfile,
    private readonly now: () => number = Date.now,
  ) {}

  async preview(req: PreviewRequest): Promise<SourcePreview> {
    this.current?.abort();
    const controller = new AbortController();
    this.current = controller;
    const started = this.now();
    const p = this.profile();
    await checkSources(req.sources);
    const out: SourcePreview = { files: 0, bytes: 0, sample: [], notes: [], notesTotal: 0, elapsedMs: 0, complete: true };
    try {
      for await (const item of scan(req.sources, {
        ...jobFilters(p, req),
        followSymlinks: req.followSymlinks,
        signal: controller.signal,
      })) {
        if ('note' in item) {
          out.notesTotal++;
          if (out.notes.length < NOTES) out.notes.push(item.note as ScanNote);
          continue;
        }
        out.files++;
        out.bytes += item.file.size;
        if (out.sample.length < SAMPLE) out.sample.push({ relpath: item.file.relpath, size: item.file.size });
        if ((out.files & 1023) === 0 && this.now() - started > BUDGET_MS) {
          out.complete = false;
          break;
        }
      }
    } finally {
      if (this.current === controller) this.current = null;
    }
    out.elapsedMs = this.now() - started;
    return out;
  }

  dispose(): void {
    this.current?.abort();
  }
}

/** Every source must exist before anything starts; the error names the path and its field. */
export async function checkSources(sources: string[]): Promise<void> {
  for (const [i, s] of sources.entries()) {
    if (!s.trim())
      throw new BeamdropError({
        code: 'source-invalid',
        retryable: false,
        field: `sources.${i}`,
        message: 'This path is empty.',
      });
    try {
      await stat(resolve(s));
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why =
        code === 'ENOENT' || code === 'ENOTDIR'
          ? 'no such file or folder; check the path'
          : `cannot be read (${code ?? (e as Error).message})`;
      throw new BeamdropError(
        {
          code: code === 'ENOENT' || code === 'ENOTDIR' ? 'not-found' : 'unreadable',
          retryable: false,
          field: `sources.${i}`,
          file: s,
          message: `${s}: ${why}.`,
        },
        { cause: e },
      );
    }
  }
}
