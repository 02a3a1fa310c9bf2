// Conveniences only: every screen works without JavaScript. Served by this server (no CDN, no inline
// script: the Content-Security-Policy forbids both).
document.addEventListener("DOMContentLoaded", () => {
  // Buttons marked data-confirm ask before submitting (the server still shows its own confirmation
  // screen for destructive operations).
  for (const el of document.querySelectorAll("[data-confirm]")) {
    el.addEventListener("click", (ev) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
    });
  }
  // "Select all" checkboxes: <input type="checkbox" data-select-all="name">
  for (const all of document.querySelectorAll("[data-select-all]")) {
    all.addEventListener("change", () => {
      const name = all.getAttribute("data-select-all");
      // data-select-in-form: only the boxes of this box's own form (a screen with several lists).
      const scope = all.hasAttribute("data-select-in-form") && all.form ? all.form : document;
      for (const box of scope.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
        box.checked = all.checked;
      }
    });
  }
});
