// Keyboard and small behaviours for the article screen. Loaded as a file (strict CSP:
// no inline script); everything here also works as plain links and forms without it.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function visibleClaims() {
    return Array.from(document.querySelectorAll("a.claim:not(.dim)"));
  }

  function selectedClaim() {
    const panel = document.getElementById("claim-panel");
    const id = panel && panel.dataset.claim;
    return id ? document.getElementById("claim-" + id) : null;
  }

  function move(step) {
    const claims = visibleClaims();
    if (claims.length === 0) return;
    const current = selectedClaim();
    let index = claims.indexOf(current);
    if (index === -1) {
      index = step > 0 ? 0 : claims.length - 1;
    } else {
      index = Math.min(claims.length - 1, Math.max(0, index + step));
    }
    const next = claims[index];
    next.click();
    next.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function press(key) {
    const button = document.querySelector('#verdict-form button[data-key="' + key + '"]');
    if (button && !button.disabled) button.click();
  }

  function openEvidence() {
    const details = document.getElementById("evidence-add");
    if (!details) return;
    details.open = true;
    const url = details.querySelector("input[type=url]");
    if (url) url.focus();
  }

  function toggleHelp() {
    const help = document.getElementById("help");
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!document.querySelector(".screen")) return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      1: () => press("1"),
      2: () => press("2"),
      3: () => press("3"),
      0: () => press("0"),
      e: openEvidence,
      "?": toggleHelp,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help]")) toggleHelp();
  });

  // Keep the highlight of the selected claim in step with the panel.
  // A verdict swaps only parts of the panel, so the target may be inside it.
  document.addEventListener("htmx:afterSettle", function (event) {
    const panel = event.target.closest && event.target.closest("#claim-panel");
    if (!panel) return;
    document.querySelectorAll("a.claim.selected").forEach((a) => a.classList.remove("selected"));
    const current = selectedClaim();
    if (current) current.classList.add("selected");
    if (panel.querySelector("[role=alert]")) panel.focus();
  });
})();

// A refused or failed htmx request must never fail silently.
(function () {
  "use strict";
  const reasons = {
    403: "Your role in this project does not allow that.",
    404: "That is no longer there; reload the page.",
    413: "That is too large to send.",
  };

  function flash(text) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => { box.hidden = true; }, 8000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr.status;
    flash((reasons[status] || "Something went wrong (" + status + "). Nothing was saved; please try again."));
  });
  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Nothing was saved; check your connection and try again.");
  });
})();
