"""The studio in real Chromium: what a process owner sees of Check, the modeller's zoom, its warning before
leaving with unsaved changes, its console, and the decision table editor."""

from tests.web import test_browser
from tests.web.test_browser import expect, open_in_studio

# The browser, the server and the signed-in pages of test_browser.py, and its marks.
chromium, server, visit = test_browser.chromium, test_browser.server, test_browser.visit
pytestmark = test_browser.pytestmark

# The text of each problem and the colour of what lies behind it, as the browser paints them (WCAG 2.x).
CONTRASTS = """() => {
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const behind = (node) => {
    for (; node; node = node.parentElement) {
      const colour = rgb(getComputedStyle(node).backgroundColor);
      if (colour.length === 3 || colour[3] > 0) return colour;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('#studio-problems li')].map((item) => {
    const painted = item.querySelector('button') || item;
    const fg = luminance(rgb(getComputedStyle(painted).color));
    const bg = luminance(behind(painted));
    return { text: item.innerText, ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05) };
  });
}"""

# Drop the form of the user task `diagnose` and the name of `log_incident`: bpmnlint and the server's checks both
# find each.
DROP_FORM_AND_NAME = """() => {
  const modeler = window.flowdeskModeler;
  const registry = modeler.get('elementRegistry');
  const element = registry.get('diagnose');
  const values = element.businessObject.extensionElements.values;
  const holder = values.find((v) => v.$type === 'spiffworkflow:Properties');
  const kept = holder.properties.filter((p) => p.name !== 'formJsonSchemaFilename');
  modeler.get('modeling').updateModdleProperties(element, holder, { properties: kept });
  modeler.get('modeling').updateProperties(registry.get('log_incident'), { name: '' });
}"""

# The smallest label of the diagram as it is drawn on the screen, in CSS pixels.
SMALLEST_LABEL = """() => Math.min(...[...document.querySelectorAll('#canvas .djs-element text')]
  .filter((t) => t.textContent.trim())
  .map((t) => parseFloat(getComputedStyle(t).fontSize) * Math.hypot(t.getScreenCTM().a, t.getScreenCTM().b)))"""


def test_check_lists_each_problem_once_in_text_that_can_be_read(visit):
    olivia = visit("olivia")
    open_in_studio(olivia)
    olivia.evaluate(DROP_FORM_AND_NAME)
    olivia.get_by_role("button", name="Check").click()
    expect(olivia.locator("#studio-status")).to_contain_text("problems found")
    problems = olivia.evaluate(CONTRASTS)
    assert problems, "the problem is listed"
    for problem in problems:
        assert problem["text"].strip() and problem["ratio"] >= 4.5, problem
    assert [p["text"] for p in problems if p["text"].startswith("diagnose:")] == [
        "diagnose: User task has no form (formJsonSchemaFilename) (flowdesk/user-task-form)"
    ]
    assert [p["text"] for p in problems if p["text"].startswith("log_incident:")] == [
        "log_incident: Element is missing label/name (label-required)"
    ]


def test_the_modeller_opens_with_labels_that_can_be_read(visit):
    olivia = visit("olivia")
    for process_id in ("incident", "request_fulfillment", "problem"):
        open_in_studio(olivia, process_id)
        assert olivia.evaluate(SMALLEST_LABEL) >= 11, process_id


def test_the_modeller_and_the_decision_table_editor_load_their_icons_without_console_warnings(visit):
    olivia = visit("olivia")
    warnings = []
    olivia.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    open_in_studio(olivia)
    olivia.evaluate("document.fonts.ready.then(() => document.fonts.check('16px bpmn'))")
    assert olivia.evaluate("[...document.fonts].some((f) => f.family.includes('bpmn') && f.status === 'loaded')")
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/priority.dmn")
    olivia.wait_for_selector("#decisions[data-ready='true']")
    olivia.evaluate("document.fonts.ready.then(() => true)")
    assert olivia.evaluate("[...document.fonts].some((f) => f.family.includes('dmn') && f.status === 'loaded')")
    assert warnings == []


def leaves_without_asking(page) -> bool:
    with page.expect_event("close", timeout=5000):
        page.close(run_before_unload=True)  # a warning would keep the page open
    return page.is_closed()


def asks_before_leaving(page) -> bool:
    with page.expect_event("dialog", timeout=5000) as asked:
        page.close(run_before_unload=True)
    asked.value.dismiss()  # stay on the page
    return asked.value.type == "beforeunload" and not page.is_closed()


def test_leaving_warns_about_unsaved_changes_until_the_deploy(visit):
    olivia = visit("olivia")
    open_in_studio(olivia)
    assert leaves_without_asking(olivia), "nothing changed yet"
    olivia = visit("olivia")
    open_in_studio(olivia)
    olivia.evaluate(
        "() => { const m = window.flowdeskModeler; "
        "m.get('selection').select(m.get('elementRegistry').get('diagnose')); }"
    )
    name = olivia.locator("#bio-properties-panel-name")
    if not name.is_visible():
        olivia.locator(".bio-properties-panel-group-header", has_text="General").click()
    name.fill("Diagnose the incident")
    name.press("Tab")
    assert asks_before_leaving(olivia)
    olivia.get_by_role("button", name="Deploy as the next version").click()
    expect(olivia.locator("#studio-status")).to_have_text("Deployed as version 2.")
    expect(olivia.locator("h1")).to_have_text("Incident management, version 2")
    assert olivia.url.endswith("/studio/incident/versions/2")
    assert leaves_without_asking(olivia), "deployed: nothing is lost"


def test_the_decision_table_and_form_editors_warn_before_leaving_with_unsaved_changes(visit):
    olivia = visit("olivia")
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/priority.dmn")
    olivia.wait_for_selector("#decisions[data-ready='true']")
    assert leaves_without_asking(olivia), "nothing changed yet"
    olivia = visit("olivia")
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/priority.dmn")
    olivia.wait_for_selector("#decisions[data-ready='true']")
    olivia.get_by_text("Impact high, urgency high: critical").click()
    olivia.keyboard.press("End")
    olivia.keyboard.type(" (checked)")
    assert asks_before_leaving(olivia)
    form = visit("olivia")
    form.goto(f"{form.base}/studio/incident/versions/1/files/forms/incident_hold.schema.json")
    expect(form.locator("#form-status")).to_have_text("Preview up to date.")
    schema = form.locator("#form-schema")
    schema.fill(schema.input_value().replace("What cleared the hold", "How the hold ended"))
    expect(form.locator("#form-preview")).to_contain_text("How the hold ended")
    assert asks_before_leaving(form)
    form.get_by_role("button", name="Deploy with the process").click()
    expect(form.locator("#form-status")).to_have_text("Deployed as version 2.")
    assert leaves_without_asking(form), "deployed: nothing is lost"


def test_the_decision_table_is_not_cut_off_at_the_bottom(visit):
    olivia = visit("olivia")
    olivia.set_viewport_size({"width": 1280, "height": 720})  # a laptop: the nine rules are taller than the window
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/priority.dmn")
    olivia.wait_for_selector("#decisions[data-ready='true']")
    olivia.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # the page's own scroll bar
    last = olivia.locator(".tjs-table tbody tr").last
    seen = last.evaluate(
        """(row) => {
          const box = row.getBoundingClientRect();
          const hit = document.elementFromPoint(box.left + 20, box.top + box.height / 2);
          return box.bottom <= window.innerHeight && hit !== null && row.contains(hit);
        }"""
    )
    assert seen, "the last rule can be seen"
