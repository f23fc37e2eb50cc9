// The decision table editor: dmn-js on a DMN file of a process version, deployed with its process.
import DmnModeler from 'dmn-js/lib/Modeler';
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import './dmn-font.css';
import { guardUnsaved, postJson, readJson, say } from './common.js';

const root = document.getElementById('decisions');
const status = document.getElementById('decisions-status');
const modeler = new DmnModeler({ container: '#decision-canvas' });
window.flowdeskDecisions = modeler;
const unsaved = guardUnsaved();
const watched = new WeakSet();

// Each view (the table, the DRD) has its own command stack: an edit in any of them is unsaved until the deploy.
function watchActiveView() {
  const viewer = modeler.getActiveViewer();
  if (!viewer || watched.has(viewer)) return;
  watched.add(viewer);
  viewer.on('commandStack.changed', (event) => {
    if (event.trigger !== 'clear') unsaved.changed();
  });
}
modeler.on('views.changed', watchActiveView);
// A cell's text reaches its command stack a moment after the typing: count it as unsaved from the first key.
document.getElementById('decision-canvas').addEventListener('input', () => unsaved.changed());

modeler.importXML(readJson('decision-xml')).then(() => {
  const table = modeler.getViews().find((v) => v.type === 'decisionTable');
  if (table) modeler.open(table);
  watchActiveView();
  root.dataset.ready = 'true';
}).catch((err) => say(status, err.message, 'error'));

document.getElementById('decisions-deploy').addEventListener('click', async () => {
  const { xml } = await modeler.saveXML({ format: true });
  const { status: code, payload } = await postJson(root.dataset.deployUrl, { files: { [root.dataset.file]: xml } });
  if (code === 201 || code === 200) {
    unsaved.saved();
    say(status, payload.message, 'ok');
  } else say(status, payload.message || (payload.error && payload.error.message) || String(code), 'error');
});
