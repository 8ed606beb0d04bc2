// The live preview of what a definition will send: a backend dry-run scan, re-run shortly after
// the sources or filters change. Stale answers (the operator kept typing) are dropped.
import { useEffect, useState } from 'react';
import type { SourcePreview } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';

export interface PreviewState {
  preview: SourcePreview | null;
  error: ErrorInfo | null;
  scanning: boolean;
}

export function usePreview(sources: string[], include: string[], exclude: string[], followSymlinks: boolean): PreviewState {
  const client = useClient();
  const [state, setState] = useState<PreviewState>({ preview: null, error: null, scanning: false });
  const key = JSON.stringify([sources, include, exclude, followSymlinks]);

  useEffect(() => {
    const [s, inc, exc, follow] = JSON.parse(key) as [string[], string[], string[], boolean];
    const usable = s.filter((x) => x.trim());
    if (!usable.length) {
      setState({ preview: null, error: null, scanning: false });
      return;
    }
    let current = true;
    setState((old) => ({ ...old, scanning: true }));
    const t = setTimeout(() => {
      client
        .call('dataset.preview', {
          sources: usable,
          include: inc.filter((x) => x.trim()),
          exclude: exc.filter((x) => x.trim()),
          followSymlinks: follow,
        })
        .then((preview) => {
          if (current) setState({ preview, error: null, scanning: false });
        })
        .catch((e: unknown) => {
          const error = errorInfoOf(e);
          // A newer preview cancelled this one: not an error to show.
          if (current && error.code !== 'cancelled') setState({ preview: null, error, scanning: false });
        });
    }, 300);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [client, key]);

  return state;
}
