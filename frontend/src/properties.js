// The properties panel group "Flowdesk": what the engine reads from a diagram (see the README, "How the
// diagrams talk to Flowdesk"). Every change goes through modeling, so it can be undone.
import { h } from '@bpmn-io/properties-panel/preact';
import { TextAreaEntry, TextFieldEntry, isTextAreaEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const BODY_TYPES = {
  preScript: 'spiffworkflow:PreScript',
  postScript: 'spiffworkflow:PostScript',
  calledDecisionId: 'spiffworkflow:CalledDecisionId',
};

function extensionValues(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values') : [];
}

function ensureExtensions(element, bo, { modeling, moddle }) {
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  return ext;
}

function getProperty(element, name) {
  const holder = extensionValues(getBusinessObject(element)).find((v) => v.$type === 'spiffworkflow:Properties');
  const property = holder && holder.get('properties').find((p) => p.name === name);
  return property ? property.value : '';
}

function setProperty(element, name, value, services) {
  const { modeling, moddle } = services;
  const bo = getBusinessObject(element);
  const ext = ensureExtensions(element, bo, services);
  let holder = ext.get('values').find((v) => v.$type === 'spiffworkflow:Properties');
  if (!holder) {
    holder = moddle.create('spiffworkflow:Properties', { properties: [] });
    holder.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), holder] });
  }
  const property = holder.get('properties').find((p) => p.name === name);
  if (!value) {
    if (property) {
      modeling.updateModdleProperties(element, holder, { properties: holder.get('properties').filter((p) => p !== property) });
    }
  } else if (property) {
    modeling.updateModdleProperties(element, property, { value });
  } else {
    const created = moddle.create('spiffworkflow:Property', { name, value });
    created.$parent = holder;
    modeling.updateModdleProperties(element, holder, { properties: [...holder.get('properties'), created] });
  }
}

function getBody(element, kind) {
  const found = extensionValues(getBusinessObject(element)).find((v) => v.$type === BODY_TYPES[kind]);
  return found ? found.value || '' : '';
}

function setBody(element, kind, value, services) {
  const { modeling, moddle } = services;
  const bo = getBusinessObject(element);
  const ext = ensureExtensions(element, bo, services);
  const found = ext.get('values').find((v) => v.$type === BODY_TYPES[kind]);
  if (!value) {
    if (found) modeling.updateModdleProperties(element, ext, { values: ext.get('values').filter((v) => v !== found) });
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else {
    const created = moddle.create(BODY_TYPES[kind], { value });
    created.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), created] });
  }
}

function timerDefinition(element) {
  const definitions = getBusinessObject(element).get('eventDefinitions') || [];
  return definitions.find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerKind(definition) {
  return ['timeDate', 'timeDuration', 'timeCycle'].find((k) => definition.get(k)) || 'timeDuration';
}

// One entry: how to read and write its value, whether it is a text area, and what it means.
const ACCESSORS = {
  property: (name) => ({ get: (el) => getProperty(el, name), set: (el, v, s) => setProperty(el, name, v, s) }),
  body: (kind) => ({ get: (el) => getBody(el, kind), set: (el, v, s) => setBody(el, kind, v, s) }),
  script: () => ({
    get: (el) => getBusinessObject(el).get('script') || '',
    set: (el, v, { modeling }) => modeling.updateProperties(el, { script: v, scriptFormat: 'python' }),
  }),
  condition: () => ({
    get: (el) => {
      const expression = getBusinessObject(el).get('conditionExpression');
      return expression ? expression.body || '' : '';
    },
    set: (el, v, { modeling, moddle }) =>
      modeling.updateProperties(el, { conditionExpression: v ? moddle.create('bpmn:FormalExpression', { body: v }) : undefined }),
  }),
  timer: () => ({
    get: (el) => {
      const definition = timerDefinition(el);
      const expression = definition && definition.get(timerKind(definition));
      return expression ? expression.body || '' : '';
    },
    set: (el, v, { modeling, moddle }) => {
      const definition = timerDefinition(el);
      const kind = timerKind(definition);
      modeling.updateModdleProperties(el, definition, { [kind]: moddle.create('bpmn:FormalExpression', { body: v }) });
    },
  }),
};

function FlowdeskEntry(props) {
  const { element, id, label, description, accessor, area } = props;
  const services = {
    modeling: useService('modeling'),
    moddle: useService('moddle'),
  };
  const debounce = useService('debounceInput');
  const translate = useService('translate');
  return h(area ? TextAreaEntry : TextFieldEntry, {
    element,
    id,
    label: translate(label),
    description: translate(description),
    getValue: () => accessor.get(element),
    setValue: (value) => accessor.set(element, value, services),
    debounce,
    monospace: area,
    rows: area ? 6 : undefined,
  });
}

function entry(element, id, label, description, accessor, area = false) {
  return { id: `flowdesk-${id}`, component: FlowdeskEntry, element, label, description, accessor, area,
    isEdited: area ? isTextAreaEntryEdited : isTextFieldEntryEdited };
}

function entriesFor(element) {
  const entries = [];
  const bo = getBusinessObject(element);
  const flowNode = is(element, 'bpmn:FlowNode');
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push(entry(element, 'script', 'Script', 'Python run in the sandbox; it reads and sets the process data.', ACCESSORS.script(), true));
  }
  if (is(element, 'bpmn:Task')) {
    entries.push(entry(element, 'pre-script', 'Pre-script', 'Runs before the task starts.', ACCESSORS.body('preScript'), true));
    entries.push(entry(element, 'post-script', 'Post-script', 'Runs when the task completes.', ACCESSORS.body('postScript'), true));
  }
  if (is(element, 'bpmn:UserTask')) {
    entries.push(entry(element, 'form', 'Form', 'JSON Schema file in forms/ (formJsonSchemaFilename).', ACCESSORS.property('formJsonSchemaFilename')));
    entries.push(entry(element, 'ui-form', 'Form layout', 'UI schema file in forms/ (formUiSchemaFilename).', ACCESSORS.property('formUiSchemaFilename')));
    entries.push(entry(element, 'candidate-groups', 'Candidate groups', 'Comma-separated group names; empty: the lane is the group.', ACCESSORS.property('candidateGroups')));
    entries.push(entry(element, 'candidate-groups-expression', 'Candidate groups expression', 'Python expression giving the group names.', ACCESSORS.property('candidateGroupsExpression')));
    entries.push(entry(element, 'assignee', 'Assignee expression', 'Python expression giving the user name who must do it.', ACCESSORS.property('assigneeExpression')));
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    entries.push(entry(element, 'decision', 'Called decision', 'The id of a decision in processes/*.dmn.', ACCESSORS.body('calledDecisionId')));
  }
  if (is(element, 'bpmn:SequenceFlow') && bo.sourceRef && is(bo.sourceRef, 'bpmn:Gateway')) {
    entries.push(entry(element, 'condition', 'Condition', 'Python expression; the flow is taken when it is true.', ACCESSORS.condition(), true));
  }
  if (timerDefinition(element)) {
    entries.push(entry(element, 'timer', 'Timer expression', "Python expression giving ISO 8601 text: 'PT4H', sla_at(sla, 0.75).", ACCESSORS.timer()));
  }
  if (flowNode) {
    entries.push(entry(element, 'status', 'Ticket status', 'The status the ticket takes when this element is reached.', ACCESSORS.property('ticketStatus')));
    entries.push(entry(element, 'event', 'Ticket event', 'What the ticket records when it completes (sla_warning, sla_breach, ...).', ACCESSORS.property('ticketEvent')));
  }
  return entries;
}

export default function FlowdeskPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(400, this);
}

FlowdeskPropertiesProvider.prototype.getGroups = function getGroups(element) {
  return (groups) => {
    const entries = entriesFor(element);
    if (entries.length) {
      groups.splice(1, 0, { id: 'flowdesk', label: 'Flowdesk', entries });
    }
    return groups;
  };
};
FlowdeskPropertiesProvider.$inject = ['propertiesPanel'];

export const FlowdeskPropertiesModule = {
  __init__: ['flowdeskPropertiesProvider'],
  flowdeskPropertiesProvider: ['type', FlowdeskPropertiesProvider],
};
