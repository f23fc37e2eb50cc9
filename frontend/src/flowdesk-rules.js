// Flowdesk's own lint rules, beside bpmnlint's recommended ones.
import { is } from 'bpmnlint-utils';

function extensionProperties(node) {
  const values = (node.extensionElements && node.extensionElements.values) || [];
  const holder = values.find((v) => v.$type === 'spiffworkflow:Properties');
  const found = {};
  for (const property of (holder && holder.properties) || []) {
    found[property.name] = property.value;
  }
  return found;
}

// Every user task has a form: the inbox renders it and the API validates against it.
export function userTaskForm() {
  return {
    check(node, reporter) {
      if (is(node, 'bpmn:UserTask') && !extensionProperties(node).formJsonSchemaFilename) {
        reporter.report(node.id, 'User task has no form (formJsonSchemaFilename)');
      }
    },
  };
}

// A business rule task names the decision it calls.
export function calledDecision() {
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:BusinessRuleTask')) return;
      const values = (node.extensionElements && node.extensionElements.values) || [];
      const called = values.find((v) => v.$type === 'spiffworkflow:CalledDecisionId');
      if (!called || !(called.value || '').trim()) {
        reporter.report(node.id, 'Business rule task calls no decision (calledDecisionId)');
      }
    },
  };
}
