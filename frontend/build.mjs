// Bundle the browser assets into ../app/static/build/ (committed: running Flowdesk needs no Node.js).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

// bpmnlint resolves rules by name at run time; in the browser the rules must be bundled, so write a
// module that imports bpmnlint's recommended rules and ours, with the resolver bpmn-js-bpmnlint expects.
const recommended = require('bpmnlint/config/recommended').rules;
const ours = { 'flowdesk/user-task-form': 'error', 'flowdesk/called-decision': 'error' };
const lines = ["import { userTaskForm, calledDecision } from '../flowdesk-rules.js';", 'const cache = {};'];
Object.keys(recommended).forEach((name, i) => {
  lines.push(`import rule_${i} from 'bpmnlint/rules/${name}';`);
  lines.push(`cache['bpmnlint/${name}'] = rule_${i};`);
});
lines.push("cache['bpmnlint-plugin-flowdesk/user-task-form'] = userTaskForm;");
lines.push("cache['bpmnlint-plugin-flowdesk/called-decision'] = calledDecision;");
lines.push(`export const config = { rules: ${JSON.stringify({ ...recommended, ...ours })} };`);
lines.push(`export const resolver = {
  resolveRule(pkg, name) {
    const rule = cache[pkg + '/' + name];
    if (!rule) throw new Error('cannot resolve rule <' + pkg + '/' + name + '>');
    return rule;
  },
  resolveConfig(pkg, name) { throw new Error('cannot resolve config <' + name + '> in <' + pkg + '>'); },
};`);
mkdirSync('src/generated', { recursive: true });
writeFileSync('src/generated/lint-config.js', lines.join('\n') + '\n');

await build({
  entryPoints: { studio: 'src/studio.js', viewer: 'src/viewer.js', decisions: 'src/decisions.js', forms: 'src/forms.js' },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020'],
  outdir: '../app/static/build',
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'linked',
  logLevel: 'info',
});
