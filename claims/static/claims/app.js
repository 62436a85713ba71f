// Keyboard and small behaviours for the article screen. Loaded as a file (strict CSP:
// no inline script); everything here also works as plain links and forms without it.
(function () {
  "use strict";

  // Keys act on the claim whose panel the person sees, or not at all. While a request
  // that swaps into the panel is in flight (the next claim's panel, a verdict, the
  // filters), the form on screen may belong to a claim that is on its way out; and a
  // panel just swapped in is handled by htmx only when it settles (20 ms later), so its
  // buttons would post the whole page. So until the panel has settled, verdict and
  // evidence keys are ignored, and `j` / `k` are kept and carried out afterwards.
  const inFlight = new Set(); // the XHRs of requests whose response swaps into the panel
  const htmxForms = new WeakSet(); // forms htmx has taken over: their submit is htmx's
  let queuedSteps = 0;

  function panelOf(element) {
    const panel = document.getElementById("claim-panel");
    if (!panel || !element) return null;
    return element === panel || panel.contains(element) || element.contains(panel) ? panel : null;
  }

  function busy() {
    const panel = document.getElementById("claim-panel");
    if (inFlight.size > 0) return true;
    if (!panel) return false;
    const swapping = ".htmx-added, .htmx-settling";
    return panel.closest(swapping) !== null || panel.querySelector(swapping) !== null;
  }

  document.addEventListener("htmx:afterProcessNode", function (event) {
    if (event.target.tagName === "FORM") htmxForms.add(event.target);
  });
  // beforeSend, not beforeRequest: a request cancelled between the two would never end.
  document.addEventListener("htmx:beforeSend", function (event) {
    if (panelOf(event.detail.target) || panelOf(event.detail.elt)) inFlight.add(event.detail.xhr);
  });
  // afterRequest comes for every ending (answer, error, abort, timeout); onLoadError
  // when handling the answer threw before it.
  ["htmx:afterRequest", "htmx:onLoadError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (!inFlight.delete(event.detail.xhr)) return;
      // An answer that swaps nothing settles nothing: carry on from here too.
      window.setTimeout(runQueuedSteps);
    });
  });

  function runQueuedSteps() {
    if (queuedSteps === 0 || busy()) return;
    const steps = queuedSteps;
    queuedSteps = 0;
    move(steps);
  }

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
    if (busy()) {
      queuedSteps += step;
      return;
    }
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

  // The verdict form of the claim on screen, when a key may submit it through htmx.
  function verdictForm() {
    if (busy() || !window.htmx) return null;
    const panel = document.getElementById("claim-panel");
    const form = document.getElementById("verdict-form");
    if (!panel || !form || !panel.contains(form) || !htmxForms.has(form)) return null;
    const shown = panel.dataset.claim;
    const highlighted = document.querySelectorAll("a.claim.selected");
    if (!shown || form.dataset.claim !== shown) return null;
    if (highlighted.length !== 1 || highlighted[0].dataset.claim !== shown) return null;
    return form;
  }

  function press(key) {
    const form = verdictForm();
    const button = form && form.querySelector('button[data-key="' + key + '"]');
    // A click, not requestSubmit: htmx reads the pressed button (its status) from the click.
    if (button && !button.disabled) button.click();
  }

  function openEvidence() {
    if (busy()) return;
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
  // Any settle may be the last thing the panel waited for; other parts of the same swap
  // settle right after this one, so look once they are done.
  document.addEventListener("htmx:afterSettle", function () {
    window.setTimeout(runQueuedSteps);
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
