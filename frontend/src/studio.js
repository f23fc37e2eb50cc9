// The process owners' modeller: edit a version, check it (bpmnlint in the browser, the server's own
// checks), deploy it as the next version. A deploy with lint errors or server problems is refused.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import lintModule from 'bpmn-js-bpmnlint';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import spiffworkflow from './spiffworkflow.json';
import { FlowdeskPropertiesModule } from './properties.js';
import { config, resolver } from './generated/lint-config.js';
import { postJson, readJson, say } from './common.js';

const root = document.getElementById('studio');
const status = document.getElementById('studio-status');
const list = document.getElementById('studio-problems');

const modeler = new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#properties' },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, FlowdeskPropertiesModule, lintModule],
  moddleExtensions: { spiffworkflow },
  linting: { bpmnlint: { config, resolver }, active: true },
});
window.flowdeskModeler = modeler; // for the browser tests and the curious

let marked = [];

function showProblems(problems) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  marked.forEach((id) => registry.get(id) && canvas.removeMarker(id, 'has-problem'));
  marked = [];
  list.replaceChildren();
  for (const problem of problems) {
    const item = document.createElement('li');
    item.className = problem.category || 'error';
    const where = problem.element_id ? `${problem.element_id}: ` : '';
    const line = problem.line ? ` (line ${problem.line})` : '';
    if (problem.element_id && registry.get(problem.element_id)) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = where + problem.message + line;
      button.addEventListener('click', () => {
        const element = registry.get(problem.element_id);
        modeler.get('selection').select(element);
        canvas.scrollToElement(element);
      });
      item.append(button);
      canvas.addMarker(problem.element_id, 'has-problem');
      marked.push(problem.element_id);
    } else {
      item.textContent = where + problem.message + line;
    }
    list.append(item);
  }
}

async function lintProblems() {
  const results = await modeler.get('linting').lint();
  const problems = [];
  for (const [rule, reports] of Object.entries(results)) {
    for (const report of reports) {
      problems.push({ element_id: report.id, message: `${report.message} (${rule})`, category: report.category });
    }
  }
  return problems;
}

async function check() {
  const { xml } = await modeler.saveXML({ format: true });
  const lint = await lintProblems();
  const { status: code, payload } = await postJson(root.dataset.validateUrl, { bpmn: xml });
  const server = code === 200 ? payload.problems : [{ message: payload.error ? payload.error.message : String(code) }];
  const problems = [...lint, ...server];
  showProblems(problems);
  const errors = problems.filter((p) => p.category !== 'warn');
  return { xml, errors, problems };
}

document.getElementById('studio-check').addEventListener('click', async () => {
  const { errors, problems } = await check();
  if (!problems.length) say(status, root.dataset.msgClean, 'ok');
  else say(status, root.dataset.msgProblems.replace('%(count)s', problems.length), errors.length ? 'error' : 'warn');
});

document.getElementById('studio-deploy').addEventListener('click', async () => {
  const lint = (await lintProblems()).filter((p) => p.category === 'error');
  if (lint.length) {
    showProblems(lint);
    say(status, root.dataset.msgLintBlocks.replace('%(count)s', lint.length), 'error');
    return;
  }
  const { xml } = await modeler.saveXML({ format: true });
  const { status: code, payload } = await postJson(root.dataset.deployUrl, { bpmn: xml });
  if (code === 201 || code === 200) {
    showProblems([]);
    say(status, payload.message, 'ok');
    const link = document.getElementById('studio-deployed');
    link.href = payload.url;
    link.hidden = false;
  } else if (code === 422) {
    showProblems(payload.problems || []);
    say(status, payload.message, 'error');
  } else {
    say(status, (payload.error && payload.error.message) || String(code), 'error');
  }
});

modeler.importXML(readJson('diagram-xml')).then(({ warnings }) => {
  root.dataset.ready = 'true';
  if (warnings.length) {
    showProblems(warnings.map((w) => ({ message: w.message, category: 'warn' })));
    say(status, root.dataset.msgImportWarnings.replace('%(count)s', warnings.length), 'warn');
  }
  modeler.get('canvas').zoom('fit-viewport');
}).catch((err) => say(status, err.message, 'error'));
