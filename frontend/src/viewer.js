// Read-only diagrams: a ticket's path (completed elements, active ones, how often each was passed), a
// process's heatmap over a date range, and the differences between two versions.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './bpmn-font.css';
import spiffworkflow from './spiffworkflow.json';
import { readJson } from './common.js';

function badge(overlays, id, text, cls) {
  const html = document.createElement('span');
  html.className = `diagram-badge ${cls}`;
  html.textContent = text;
  overlays.add(id, { position: { top: -12, right: 12 }, html });
}

async function show(holder) {
  const viewer = new NavigatedViewer({ container: holder, moddleExtensions: { spiffworkflow } });
  const { warnings } = await viewer.importXML(readJson(holder.dataset.xml));
  const marks = readJson(holder.dataset.marks) || {};
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  const known = (id) => registry.get(id);
  for (const [id, count] of Object.entries(marks.completed || {})) {
    if (!known(id)) continue;
    canvas.addMarker(id, 'path-completed');
    if (count > 1) badge(overlays, id, `×${count}`, 'count');
  }
  for (const id of marks.active || []) {
    if (known(id)) canvas.addMarker(id, 'path-active');
  }
  const heat = marks.heat || {};
  const most = Math.max(1, ...Object.values(heat).map((h) => h.count));
  for (const [id, cell] of Object.entries(heat)) {
    if (!known(id)) continue;
    const level = Math.min(4, Math.ceil((4 * cell.count) / most));
    canvas.addMarker(id, `heat-${level}`);
    badge(overlays, id, cell.label, 'heat');
  }
  for (const kind of ['added', 'removed', 'changed']) {
    for (const id of (marks.diff && marks.diff[kind]) || []) {
      if (known(id)) canvas.addMarker(id, `diff-${kind}`);
    }
  }
  canvas.zoom('fit-viewport');
  holder.dataset.ready = 'true';
  holder.dataset.warnings = String(warnings.length);
  holder.dataset.marked = String(document.querySelectorAll('.path-completed, .path-active, [class*="heat-"], [class*="diff-"]').length);
}

document.querySelectorAll('.diagram[data-xml]').forEach((holder) => {
  show(holder).catch((err) => {
    holder.dataset.ready = 'error';
    holder.textContent = err.message;
  });
});
