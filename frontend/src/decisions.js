// The decision table editor: dmn-js on a DMN file of a process version, deployed with its process.
import DmnModeler from 'dmn-js/lib/Modeler';
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import './dmn-font.css';
import { postJson, readJson, say } from './common.js';

const root = document.getElementById('decisions');
const status = document.getElementById('decisions-status');
const modeler = new DmnModeler({ container: '#decision-canvas' });
window.flowdeskDecisions = modeler;

modeler.importXML(readJson('decision-xml')).then(() => {
  const table = modeler.getViews().find((v) => v.type === 'decisionTable');
  if (table) modeler.open(table);
  root.dataset.ready = 'true';
}).catch((err) => say(status, err.message, 'error'));

document.getElementById('decisions-deploy').addEventListener('click', async () => {
  const { xml } = await modeler.saveXML({ format: true });
  const { status: code, payload } = await postJson(root.dataset.deployUrl, { files: { [root.dataset.file]: xml } });
  if (code === 201 || code === 200) say(status, payload.message, 'ok');
  else say(status, payload.message || (payload.error && payload.error.message) || String(code), 'error');
});
