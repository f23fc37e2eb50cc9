// Forms, a little better with JavaScript (they work without it): after a submit with errors the focus goes
// to the error summary; a field's error goes away once the field is changed to a value the browser accepts,
// and with it its line in the summary. The server still checks everything on the next submit.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  document.querySelectorAll(".field.has-error").forEach((field) => {
    const inputs = [...field.querySelectorAll("input, select, textarea")];
    const before = inputs.map((input) => (input.type === "radio" || input.type === "checkbox" ? input.checked : input.value));
    const fixed = () => {
      const now = inputs.map((input) => (input.type === "radio" || input.type === "checkbox" ? input.checked : input.value));
      const changed = now.some((value, i) => value !== before[i]);
      return changed && inputs.every((input) => input.checkValidity());
    };
    const clear = () => {
      if (!fixed()) return;
      const error = field.querySelector(".field-error");
      field.classList.remove("has-error");
      inputs.forEach((input) => input.removeAttribute("aria-invalid"));
      if (error) {
        const line = summary && summary.querySelector(`a[href="#${error.id}"]`);
        if (line) line.closest("li").remove();
        error.remove();
      }
      if (summary && !summary.querySelector("li")) summary.hidden = true;
    };
    field.addEventListener("input", clear);
    field.addEventListener("change", clear);
  });
});
