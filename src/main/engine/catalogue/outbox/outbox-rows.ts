// How an outbox registration row is read and written: its shape in the journal, the request parsed
// with its schema (a row another version wrote differently is an error naming it, never a silent
// loss), and the request checked before it is journaled.
import type { z } from 'zod';
import { BeamdropError, type ErrorInfo } from '../../../../shared/errors.js';
import { datasetLabel, type RegistrationState } from '../../../../shared/model.js';
import type { DatasetRef } from '../catalogue-adapter.js';
import { registrationRequestSchema, type RegistrationRequest } from './registration-request.js';

export interface Registration {
  id: number;
  catalogue: string;
  dataset: string;
  proposal: string | null;
  /** From the request (the registrations table predates visits in the identity). */
  visit: string | null;
  key: string;
  request: RegistrationRequest;
  state: RegistrationState;
  remote: DatasetRef | null;
  finishWanted: boolean;
  /**
   * When the catalogue was last told the dataset is finished (SciCat archivable, ICAT complete,
   * the ICAT+ message); cleared when it is reopened there for more files.
   */
  finishedAt: number | null;
  /** The request changed after the catalogue received it: its metadata update waits to be sent. */
  updateWanted: boolean;
  attempts: number;
  nextAt: number;
  lastError: (ErrorInfo & { reason?: string }) | null;
  updatedAt: number;
}

export interface QueuedFile {
  id: number;
  fileId: number | null;
  relpath: string;
  size: number;
  sha256: string;
  mtimeMs: number;
  storageUri: string;
  queuedAt: number;
}

export type RegRow = {
  id: number;
  catalogue: string;
  dataset: string;
  proposal: string | null;
  idem_key: string;
  request: string;
  state: RegistrationState;
  remote_id: string | null;
  remote_extra: string | null;
  finish_wanted: number;
  finished_at: number | null;
  update_wanted: number;
  attempts: number;
  next_at: number;
  last_error: string | null;
  updated_at: number;
};

function unreadable(r: Pick<RegRow, 'id' | 'catalogue' | 'dataset' | 'proposal'>, what: string): BeamdropError {
  return new BeamdropError({
    code: 'internal',
    retryable: false,
    dataset: r.dataset,
    field: 'request',
    message: `registration ${r.id} of dataset ${datasetLabel({ name: r.dataset, proposal: r.proposal, visit: null })} in ${r.catalogue} cannot be read from the journal: ${what}. It was probably written by another version of Beamdrop; run that version to send it.`,
  });
}

/** Parses a stored request with its schema: a mismatch is an error naming the registration, never a silent loss. */
function parseRequest(r: Pick<RegRow, 'id' | 'catalogue' | 'dataset' | 'proposal' | 'request'>): RegistrationRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(r.request);
  } catch {
    throw unreadable(r, 'its stored request is not JSON');
  }
  const parsed = registrationRequestSchema.safeParse(raw);
  if (!parsed.success) throw unreadable(r, `its stored request does not match (${issuesOf(parsed.error)})`);
  return parsed.data;
}

/** The request as it is journaled; one that would not read back is refused before it is written. */
export function storedRequest(request: RegistrationRequest): string {
  const parsed = registrationRequestSchema.safeParse(request);
  if (!parsed.success)
    throw new BeamdropError({
      code: 'internal',
      retryable: false,
      dataset: request.dataset,
      field: 'request',
      message: `the registration of dataset "${request.dataset}" cannot be journaled: ${issuesOf(parsed.error)}.`,
    });
  return JSON.stringify(request);
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${['request', ...i.path].join('.')}: ${i.message}`).join('; ');
}

export const toReg = (r: RegRow): Registration => {
  const request = parseRequest(r);
  return {
    id: r.id,
    catalogue: r.catalogue,
    dataset: r.dataset,
    proposal: r.proposal,
    visit: request.visit,
    key: r.idem_key,
    request,
    state: r.state,
    remote:
      r.remote_id === null
        ? null
        : { id: r.remote_id, ...(r.remote_extra ? { extra: JSON.parse(r.remote_extra) as Record<string, string> } : {}) },
    finishWanted: r.finish_wanted === 1,
    finishedAt: r.finished_at,
    updateWanted: r.update_wanted === 1,
    attempts: r.attempts,
    nextAt: r.next_at,
    lastError: r.last_error ? (JSON.parse(r.last_error) as ErrorInfo & { reason?: string }) : null,
    updatedAt: r.updated_at,
  };
};
