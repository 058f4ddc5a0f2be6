import type { ReportKind } from '../../../main/contract/calls/reports.js';
import { useStore } from '../stores/createStore.js';
import { chooseFolder, exportReport, reportStore, resetFolder, rewriteReport, setExtentChoice, setReportText, setSimplify } from '../stores/reportStore.js';

const KINDS: { kind: ReportKind; label: string }[] = [
  { kind: 'geojson', label: 'GeoJSON' },
  { kind: 'gpkg', label: 'GeoPackage' },
  { kind: 'pdf', label: 'PDF report' },
];

/** Exports of the open case: vectors with provenance and the PDF report, into a folder the analyst chose. */
export function ExportPanel() {
  const { sessionId, objects, selected, simplifyM, folder, exporting, reports, lastExport, error, title, analyst, extentChoice, mapExtent } = useStore(reportStore, (s) => s);
  const exportable = objects.some((o) => !o.problem);
  return (
    <section className="export-panel" aria-label="Export" data-testid="export-panel">
      <div className="export-folder">
        <span className="item-meta" data-testid="export-scope">{selected.length ? `${selected.length} selected` : 'all objects'} to</span>
        <span className="item-name" data-testid="export-folder">{folder ? folder.name : 'the image’s folder'}</span>
        <button type="button" className="link" data-testid="export-choose-folder" onClick={() => void chooseFolder()}>
          choose…
        </button>
        {folder && (
          <button type="button" className="link" onClick={resetFolder}>
            reset
          </button>
        )}
      </div>
      <label className="export-simplify item-meta" title="Douglas–Peucker tolerance for GeoJSON/GeoPackage; 0 keeps the exact pixel edges (pixels on images without georeferencing)">
        simplify
        <input type="number" min={0} step={1} value={simplifyM} data-testid="export-simplify" onChange={(e) => setSimplify(Number(e.target.value))} />
        m
      </label>
      <fieldset className="export-pdf-options">
        <legend className="item-meta">PDF report</legend>
        <label className="item-meta">
          title
          <input type="text" maxLength={200} value={title} placeholder="Vantage report: case name" data-testid="export-title" onChange={(e) => setReportText('title', e.target.value)} />
        </label>
        <label className="item-meta">
          analyst
          <input type="text" maxLength={200} value={analyst} placeholder="your user name" data-testid="export-analyst" onChange={(e) => setReportText('analyst', e.target.value)} />
        </label>
        <label className="item-meta" title="The map snapshot shows what the map shows now, or every mask and prompt of the case">
          map extent
          <select value={extentChoice} data-testid="export-extent" onChange={(e) => setExtentChoice(e.target.value === 'view' ? 'view' : 'case')}>
            <option value="case">whole case</option>
            <option value="view" disabled={!mapExtent}>current map view</option>
          </select>
        </label>
      </fieldset>
      <div className="export-buttons">
        {KINDS.map(({ kind, label }) => (
          <button
            key={kind}
            type="button"
            data-testid={`export-${kind}`}
            disabled={!sessionId || exporting !== null || (kind !== 'pdf' && !exportable)}
            onClick={() => void exportReport(kind)}
          >
            {exporting === kind ? 'Writing…' : label}
          </button>
        ))}
      </div>
      {lastExport && (
        <p className="export-result" data-testid="export-result" data-file={lastExport.fileName} data-kind={lastExport.kind}>
          Wrote {lastExport.fileName} ({lastExport.featureCount} object{lastExport.featureCount === 1 ? '' : 's'}
          {lastExport.folderName ? ` in ${lastExport.folderName}` : ''})
          {lastExport.warnings.length > 0 && <span className="item-meta"> · {lastExport.warnings.join(' · ')}</span>}
        </p>
      )}
      {reports.length > 0 && (
        <details className="stored-reports" data-testid="stored-reports">
          <summary className="item-meta">{reports.length} stored in this case</summary>
          <ul className="item-list">
            {reports.slice(0, 20).map((r) => (
              <li key={r.id} className="stored-report">
                <button type="button" className="link" onClick={() => void rewriteReport(r.id)}>
                  write again
                </button>
                <span className="item-name" title={`${r.fileName} · ${r.featureCount} object(s) · ${r.bytes.toLocaleString('en-US')} bytes`}>
                  {KINDS.find((k) => k.kind === r.kind)?.label} · {r.createdAt.slice(0, 16).replace('T', ' ')} UTC · {r.featureCount} obj.
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {error && (
        <p className="inline-error" role="alert" data-testid="export-error">
          {error}
        </p>
      )}
    </section>
  );
}
