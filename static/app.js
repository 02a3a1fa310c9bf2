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
  // Notice buttons (form[data-pdf]): fetch the PDF from the POST, save it, then show the page again
  // (or go to the address in data-pdf), where the server's message and the accounts' new states
  // appear. The button stays disabled while the request runs, so a double click issues once.
  // Any answer that is not a PDF (a refusal, the batch's confirmation screen) is left to the
  // browser by submitting the form as usual: a refusal changed nothing.
  for (const form of document.querySelectorAll("form[data-pdf]")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const buttons = form.querySelectorAll("button[type=submit]");
      if (form.dataset.busy) return;
      form.dataset.busy = "1";
      for (const b of buttons) b.disabled = true;
      try {
        const res = await fetch(form.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "X-Requested-With": "fetch" },
          credentials: "same-origin",
        });
        const type = res.headers.get("Content-Type") || "";
        if (!res.ok || !type.startsWith("application/pdf")) {
          HTMLFormElement.prototype.submit.call(form);
          return;
        }
        const blob = await res.blob();
        const disposition = res.headers.get("Content-Disposition") || "";
        const named = /filename="([^"]+)"/.exec(disposition);
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = named ? named[1] : "IDPW-notice.pdf";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => {
          URL.revokeObjectURL(link.href);
          const after = form.dataset.pdf;
          if (after) window.location.assign(after);
          else window.location.replace(window.location.href);
        }, 300);
      } catch (e) {
        delete form.dataset.busy;
        for (const b of buttons) b.disabled = false;
        HTMLFormElement.prototype.submit.call(form);
      }
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
