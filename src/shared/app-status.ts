// The one-word status of the whole app, shown by the tray icon and the window's header.
import type { JobView } from './app-model.js';

export type AppStatus = 'idle' | 'uploading' | 'attention';

/** How long a finished job with failures keeps asking for attention. */
export const ATTENTION_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Attention wins over uploading: a paused job or a failed file must not hide behind a spinner.
 * Old finished jobs with failures stop counting after a day, so the tray does not stay red forever.
 */
export function appStatusOf(jobs: readonly JobView[], now: number): AppStatus {
  const wantsAttention = (j: JobView) =>
    j.attention && (j.running || j.finishedAt === null || now - j.finishedAt < ATTENTION_WINDOW_MS);
  if (jobs.some(wantsAttention)) return 'attention';
  if (jobs.some((j) => j.running)) return 'uploading';
  return 'idle';
}
