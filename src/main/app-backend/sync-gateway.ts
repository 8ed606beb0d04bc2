// Sync mode (watch folders during acquisition) as the app backend uses it: Engine.watch and
// Engine.resumeWatch. A running session has two signals: `finish` ends the acquisition (what is
// complete is still sent, then the dataset is finalised), `pause` stops at once, resumable.
import type { JobEvent, JobSummary } from '../../shared/model.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import type { Engine, UploadRequest } from '../engine/engine.js';

export interface SyncSignals {
  finish: AbortSignal;
  pause: AbortSignal;
}

export interface Completeness {
  /** Size and mtime unchanged this long (seconds). */
  quietSeconds: number;
  /** Optional marker rule: files matching `markerMatch` (regex) are complete once `marker` exists. */
  markerMatch: string;
  marker: string;
}

export type SyncStart = Omit<UploadRequest, 'signal' | 'onEvent' | 'onRead' | 'dryRun'> & {
  technique: string | null;
  completeness: Completeness;
};

export interface SyncGateway {
  start(profile: FacilityProfile, req: SyncStart, signals: SyncSignals, onEvent: (e: JobEvent) => void): Promise<JobSummary>;
  resume(jobId: number, signals: SyncSignals, onEvent: (e: JobEvent) => void): Promise<JobSummary>;
}

export function engineSync(engine: Engine): SyncGateway {
  return {
    async start(profile, req, signals, onEvent) {
      const { sources, completeness: c, technique, policy: _policy, ...rest } = req;
      const rules = {
        quietPeriod: Math.round(c.quietSeconds * 1000),
        ...(c.markerMatch.trim() && c.marker.trim()
          ? { markers: [{ match: c.markerMatch.trim(), marker: c.marker.trim() }] }
          : {}),
      };
      const r = await engine.watch(profile, {
        ...rest,
        folders: sources,
        rules,
        ...(technique ? { technique } : {}),
        signal: signals.finish,
        pauseSignal: signals.pause,
        onEvent,
      });
      return r.summary;
    },
    async resume(jobId, signals, onEvent) {
      return (await engine.resumeWatch(jobId, { signal: signals.finish, pauseSignal: signals.pause, onEvent })).summary;
    },
  };
}
