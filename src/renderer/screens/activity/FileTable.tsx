// The file table of one job, virtualised: only the rows on screen exist in the DOM, and only
// their pages are fetched, so 100,000 files scroll as smoothly as 100. Fixed row height; the
// full reason of a failure (and hashes, keys) shows in the detail panel of the chosen row.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { FileRow } from '../../../shared/app-model.js';
import { StateBadge } from '../../components/StateBadge.js';
import { formatBytes } from '../../format.js';
import { useActivityStore } from '../../app/store-context.js';
import { PAGE_SIZE, type ActivitySnapshot } from './activity-store.js';

const ROW_HEIGHT = 32;

export function FileTable({ snapshot }: { snapshot: ActivitySnapshot }) {
  const store = useActivityStore();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [chosen, setChosen] = useState<FileRow | null>(null);
  const virtualizer = useVirtualizer({
    count: snapshot.total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    store.setVisibleRows(first, last);
  }, [store, first, last]);
  useEffect(() => setChosen(null), [snapshot.selected, snapshot.filter]);

  const rowAt = (i: number): FileRow | undefined => snapshot.pages.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE];
  // The chosen row's newest version, as pages refresh.
  const current = chosen ? (findRow(snapshot, chosen.id) ?? chosen) : null;

  return (
    <div className={`file-table-wrap${current ? ' file-table-wrap--detail' : ''}`}>
      <div className="file-table" role="table" aria-label="Files of the selected job" aria-rowcount={snapshot.total + 1}>
        <div role="rowgroup" className="file-table__head">
          <div role="row" className="file-row file-row--head" aria-rowindex={1}>
            <span role="columnheader">State</span>
            <span role="columnheader">Path</span>
            <span role="columnheader" className="num">
              Size
            </span>
            <span role="columnheader" className="num">
              Tries
            </span>
            <span role="columnheader">Detail</span>
          </div>
        </div>
        <div
          ref={scrollRef}
          className="file-table__scroll"
          tabIndex={0}
          aria-label="File rows; use arrow keys or Page Down to scroll"
        >
          <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((item) => {
              const row = rowAt(item.index);
              return (
                <div
                  key={item.key}
                  role="row"
                  aria-rowindex={item.index + 2}
                  className={`file-row${row?.state === 'failed' ? ' file-row--failed' : ''}${current && row?.id === current.id ? ' file-row--chosen' : ''}`}
                  data-state={row?.state}
                  data-relpath={row?.relpath}
                  style={{ height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                  onClick={() => row && setChosen(row)}
                >
                  {row ? (
                    <RowCells row={row} onChoose={() => setChosen(row)} />
                  ) : (
                    <span role="cell" className="file-row__loading">
                      …
                    </span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
        {snapshot.loaded && snapshot.total === 0 ? (
          <p className="empty">No files {snapshot.filter.length ? `in state ${snapshot.filter.join(', ')}` : 'yet'}.</p>
        ) : null}
      </div>
      {current ? <FileDetail row={current} onClose={() => setChosen(null)} /> : null}
    </div>
  );
}

function RowCells({ row, onChoose }: { row: FileRow; onChoose(): void }) {
  const detail = row.error ? row.error.message : row.sha256 ? `sha256:${row.sha256}` : (row.remoteKey ?? '');
  return (
    <>
      <span role="cell">
        <StateBadge state={row.state} />
      </span>
      <span role="cell" className="file-row__path">
        <button
          type="button"
          className="link-button"
          onClick={(e) => {
            e.stopPropagation();
            onChoose();
          }}
          title={row.relpath}
        >
          {row.relpath}
        </button>
      </span>
      <span role="cell" className="num">
        {formatBytes(row.size)}
      </span>
      <span role="cell" className="num">
        {row.attempts}
      </span>
      <span role="cell" className={`file-row__detail${row.error ? ' text-error' : ' mono'}`} title={detail}>
        {detail}
      </span>
    </>
  );
}

function FileDetail({ row, onClose }: { row: FileRow; onClose(): void }) {
  return (
    <section className="file-detail card" aria-labelledby="file-detail-title">
      <header>
        <h3 id="file-detail-title">{row.relpath}</h3>
        <button type="button" className="button button--quiet" onClick={onClose}>
          Close
        </button>
      </header>
      <dl>
        <div>
          <dt>State</dt>
          <dd>
            <StateBadge state={row.state} />
          </dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>
            {formatBytes(row.size)} ({row.size.toLocaleString()} bytes)
          </dd>
        </div>
        <div>
          <dt>SHA-256</dt>
          <dd className="mono">{row.sha256 ?? '—'}</dd>
        </div>
        <div>
          <dt>Storage key</dt>
          <dd className="mono">{row.remoteKey ?? '—'}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{row.attempts}</dd>
        </div>
        {row.error ? (
          <div>
            <dt>Reason</dt>
            <dd className="text-error" data-testid="failure-reason">
              {row.error.message}
            </dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

function findRow(s: ActivitySnapshot, id: number): FileRow | undefined {
  for (const rows of s.pages.values()) {
    const r = rows.find((x) => x.id === id);
    if (r) return r;
  }
  return undefined;
}
