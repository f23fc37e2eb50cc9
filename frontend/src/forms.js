// The form editor: JSON Schema and UI schema as text, previewed by the server's own renderer as you type.
import { guardUnsaved, postJson, say } from './common.js';

const root = document.getElementById('form-editor');
const schema = document.getElementById('form-schema');
const ui = document.getElementById('form-ui');
const preview = document.getElementById('form-preview');
const status = document.getElementById('form-status');
let timer = null;
const unsaved = guardUnsaved();

// The schema and layout typed so far, or null (the JSON error is shown) when they do not parse.
function parsed() {
  try {
    return { schema: JSON.parse(schema.value), ui: ui.value.trim() ? JSON.parse(ui.value) : {} };
  } catch (err) {
    say(status, err.message, 'error');
    return null;
  }
}

async function refresh() {
  const body = parsed();
  if (!body) return;
  const { status: code, payload } = await postJson(root.dataset.previewUrl, body);
  if (code === 200) {
    preview.innerHTML = payload.html; // rendered and escaped by the server's form renderer
    say(status, root.dataset.msgPreviewed, 'ok');
  } else {
    say(status, payload.message || String(code), 'error');
  }
}

for (const area of [schema, ui]) {
  area.addEventListener('input', () => {
    unsaved.changed();
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
}

document.getElementById('form-deploy').addEventListener('click', async () => {
  const body = parsed();
  if (!body) return;
  const files = { [root.dataset.schemaFile]: JSON.stringify(body.schema, null, 2) + '\n' };
  if (root.dataset.uiFile) files[root.dataset.uiFile] = JSON.stringify(body.ui, null, 2) + '\n';
  const { status: code, payload } = await postJson(root.dataset.deployUrl, { files });
  if (code < 300) unsaved.saved();
  say(status, payload.message || (payload.error && payload.error.message) || String(code), code < 300 ? 'ok' : 'error');
});

refresh();
