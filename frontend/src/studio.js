// The process owners' modeller: edit a version, check it (bpmnlint in the browser, the server's own
// checks), deploy it as the next version. A deploy with lint errors or server problems is refused.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import lintModule from 'bpmn-js-bpmnlint';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './bpmn-font.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import spiffworkflow from './spiffworkflow.json';
import { FlowdeskPropertiesModule } from './properties.js';
import { config, resolver } from './generated/lint-config.js';
import { guardUnsaved, postJson, readJson, say } from './common.js';

const root = document.getElementById('studio');
const status = document.getElementById('studio-status');
const list = document.getElementById('studio-problems');

// Labels are drawn at LABEL_PX at 100% (inside shapes and beside them alike); the modeller never zooms them out
// below READABLE_PX.
const LABEL_PX = 12;
const READABLE_PX = 11;
const MARGIN_PX = 24;

const modeler = new BpmnModeler({
  container: '#canvas',
  textRenderer: { defaultStyle: { fontSize: LABEL_PX }, externalStyle: { fontSize: LABEL_PX } },
  propertiesPanel: { parent: '#properties' },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, FlowdeskPropertiesModule, lintModule],
  moddleExtensions: { spiffworkflow },
  linting: { bpmnlint: { config, resolver }, active: true },
});
window.flowdeskModeler = modeler; // for the browser tests and the curious

let marked = [];
const unsaved = guardUnsaved();
modeler.on('commandStack.changed', (event) => {
  if (event.trigger !== 'clear') unsaved.changed();
});

// bpmnlint rules the server also checks, with the start of the server's message for the same problem: a
// problem both find on one element is listed once, as bpmnlint words it.
const SERVER_TWINS = {
  'flowdesk/user-task-form': 'a user task needs a form',
  'flowdesk/called-decision': 'calls decision ',
  'label-required': 'every element needs a name',
};

function withoutTwins(lint, server) {
  const same = (p, q) => p.element_id === q.element_id
    && (p.text === q.message || (SERVER_TWINS[p.rule] && q.message.startsWith(SERVER_TWINS[p.rule])));
  return [...lint, ...server.filter((q) => !lint.some((p) => same(p, q)))];
}

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
      problems.push({
        element_id: report.id,
        message: `${report.message} (${rule})`,
        text: report.message,
        rule,
        category: report.category,
      });
    }
  }
  return problems;
}

async function check() {
  const { xml } = await modeler.saveXML({ format: true });
  const lint = await lintProblems();
  const { status: code, payload } = await postJson(root.dataset.validateUrl, { bpmn: xml });
  const server = code === 200 ? payload.problems : [{ message: payload.error ? payload.error.message : String(code) }];
  const problems = withoutTwins(lint, server);
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
    unsaved.saved();
    showProblems([]);
    say(status, payload.message, 'ok');
    showDeployed(payload);
  } else if (code === 422) {
    showProblems(payload.problems || []);
    say(status, payload.message, 'error');
  } else {
    say(status, (payload.error && payload.error.message) || String(code), 'error');
  }
});

// The page now shows the version just deployed: its heading, its address and the links to its files.
function showDeployed(payload) {
  const link = document.getElementById('studio-deployed');
  link.href = payload.url;
  link.hidden = false;
  const before = location.pathname.replace(/\/$/, '');
  document.getElementById('edit-title').textContent = payload.heading;
  document.getElementById('edit-help').textContent = payload.help;
  document.title = document.title.replace(/ v\d+\b/, ` v${payload.version}`);
  for (const file of document.querySelectorAll('#version-files a')) {
    file.href = file.href.replace(`${before}/files/`, `${payload.url}/files/`);
  }
  history.replaceState(null, '', payload.url);
}

// Fit the diagram's width beside the palette, but never below the zoom that keeps labels at READABLE_PX nor above
// 100%; what does not fit is reached by scrolling, from the diagram's top left corner.
function openReadable() {
  const canvas = modeler.get('canvas');
  const { inner, outer } = canvas.viewbox();
  const palette = document.querySelector('#canvas .djs-palette');
  const origin = canvas.getContainer().getBoundingClientRect().left;
  const left = MARGIN_PX + (palette ? palette.getBoundingClientRect().right - origin : 0);
  const fit = (outer.width - left - MARGIN_PX) / Math.max(inner.width, 1);
  const zoom = Math.min(1, Math.max(READABLE_PX / LABEL_PX, fit));
  canvas.viewbox({
    x: inner.x - left / zoom,
    y: inner.y - MARGIN_PX / zoom,
    width: outer.width / zoom,
    height: outer.height / zoom,
  });
}

modeler.importXML(readJson('diagram-xml')).then(({ warnings }) => {
  if (warnings.length) {
    showProblems(warnings.map((w) => ({ message: w.message, category: 'warn' })));
    say(status, root.dataset.msgImportWarnings.replace('%(count)s', warnings.length), 'warn');
  }
  openReadable();
  root.dataset.ready = 'true';
}).catch((err) => say(status, err.message, 'error'));
