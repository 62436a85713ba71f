// Keyboard and small behaviours for the article screen. Loaded as a file (strict CSP:
// no inline script); everything here also works as plain links and forms without it.
// The keys are listed on /keys/ (templates/claims/help.html), which the screen's `?`
// dialog shows too: a key added here is added there.

// What the article screen and the queue share: a live region that says what a key did,
// a form field focused with the caret at its end, and the keys' help dialog.
const keysUI = Object.freeze({
  // Said in a live region inside the element `containerSelector` finds (made on first use).
  announce(containerSelector, text) {
    let region = document.getElementById("announce");
    const container = document.querySelector(containerSelector);
    if (!region && container) {
      region = document.createElement("p");
      region.id = "announce";
      region.className = "sr";
      region.setAttribute("role", "status");
      container.appendChild(region);
    }
    if (!region) return;
    // Emptied first, so that the same words said twice are heard twice.
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  },

  focusField(form, name) {
    const field = form && form.elements.namedItem(name);
    if (!field) return;
    field.focus();
    if (field.tagName === "TEXTAREA") field.setSelectionRange(field.value.length, field.value.length);
  },

  toggleHelp() {
    const help = document.getElementById("help");
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  },
});

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
    const swapping = ".htmx-added, .htmx-settling";
    // A page of the text just swapped in: its claims load panels only once it settles.
    const text = document.querySelector(".reading");
    if (text && text.querySelector(swapping) !== null) return true;
    if (!panel) return false;
    if (panel.closest(swapping) !== null) return true;
    // A section the panel loads after itself (data-background) settling holds nothing
    // back either: the verdict form is already in place.
    return Array.from(panel.querySelectorAll(swapping)).some(function (el) {
      return !el.closest("[data-background]");
    });
  }

  document.addEventListener("htmx:afterProcessNode", function (event) {
    if (event.target.tagName === "FORM") htmxForms.add(event.target);
  });
  // beforeSend, not beforeRequest: a request cancelled between the two would never end.
  // A page of the text on its way counts too: `j` / `k` wait for its claims.
  document.addEventListener("htmx:beforeSend", function (event) {
    const elt = event.detail.elt;
    // A section the panel loads after itself (data-background) holds no key back.
    if (elt.closest && elt.closest("[data-background]")) return;
    if (panelOf(event.detail.target) || panelOf(elt) || pageLink(elt)) {
      inFlight.add(event.detail.xhr);
    }
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

  // Kept steps run once nothing is in the way: after the request or settle that ended
  // it, and, should that event come before the last class is gone (under load, CI once
  // saw `j` stop for good halfway through a long article), at the next look 50 ms on.
  let lookAgain = null;

  function runQueuedSteps() {
    if (queuedSteps === 0) return;
    if (busy()) {
      if (lookAgain === null) {
        lookAgain = window.setTimeout(function () {
          lookAgain = null;
          runQueuedSteps();
        }, 50);
      }
      return;
    }
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

  // The links to the pages before and after the ones loaded (a long article comes a page
  // at a time): htmx loads them as they are scrolled to, or clicked.
  function pageLink(element) {
    return element && element.matches ? element.matches("a[data-page]") : false;
  }

  function selectedClaim() {
    const panel = document.getElementById("claim-panel");
    const id = panel && panel.dataset.claim;
    return id ? document.getElementById("claim-" + id) : null;
  }

  function move(step) {
    if (busy()) {
      queuedSteps += step;
      runQueuedSteps(); // looks again until nothing is in the way
      return;
    }
    const claims = visibleClaims();
    const current = selectedClaim();
    let index = claims.indexOf(current);
    if (index === -1) {
      index = step > 0 ? 0 : claims.length - 1;
    } else {
      index += step;
    }
    // Past the claims loaded: load the page beyond them first, then take the step there.
    if (index < 0 || index >= claims.length) {
      const side = step > 0 ? "next" : "previous";
      const link = document.querySelector('a[data-page="' + side + '"]');
      if (link && window.htmx) {
        queuedSteps += step;
        link.click();
        return;
      }
    }
    if (claims.length === 0) return;
    index = Math.min(claims.length - 1, Math.max(0, index));
    const next = claims[index];
    next.click();
    // The claim gets the focus (Esc comes back to it) and a screen reader hears which one
    // it is; on a narrow screen the panel's sheet is left out of "center" (scroll-padding).
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "center", behavior: "smooth" });
    announce(describe(next));
  }

  // "Claim 14 of 100, disputed by you": what `j` / `k` and a saved verdict announce. The
  // article's claims, not only the pages loaded, are counted by the server.
  function describe(claim) {
    const number = claim.querySelector(".claim-no");
    const status = /\bv-(supported|disputed|outdated)\b/.exec(claim.className);
    // The article's length: on the text, or for an article longer than a page, on its
    // progress once that has been counted (it comes just after the first screen).
    const reading = document.querySelector(".reading[data-claims], #progress[data-claims]");
    const total = reading ? reading.dataset.claims : document.querySelectorAll("a.claim").length;
    const mine = status ? status[1] + " by you" : "not tagged by you";
    return "Claim " + (number ? number.textContent : "") + " of " + total + ", " + mine;
  }

  function announce(text) {
    keysUI.announce(".screen", text);
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

  // `r` and `d`: the rationale and the date of the verdict form on screen.
  function focusField(name) {
    keysUI.focusField(verdictForm(), name);
  }

  // Enter in the rationale or the date saves them with the verdict that stands; with none
  // yet, there is nothing to save them with: the next verdict key will.
  function save() {
    const form = verdictForm();
    if (!form) return;
    const standing = form.querySelector('button[aria-pressed="true"]');
    backToText();
    if (standing && !standing.disabled) standing.click();
    else announce("Rationale kept: press 1, 2 or 3 to save it with a verdict.");
  }

  function inVerdictField(target) {
    return target.matches("#verdict-form textarea, #verdict-form input:not([type=hidden])");
  }

  // Esc: out of any field, back to the claim in the text (what was typed stays), which
  // the browser scrolls into view if it is out of sight.
  function backToText() {
    const claim = selectedClaim() || visibleClaims()[0];
    if (claim) claim.focus();
    else if (document.activeElement) document.activeElement.blur();
  }

  // `a`: adopt the verdict of the first claim shown under "Same claim elsewhere".
  function adopt() {
    const panel = document.getElementById("claim-panel");
    if (busy() || !window.htmx || !panel) return;
    const section = panel.querySelector("#same-claim[data-claim]");
    if (!section || section.dataset.claim !== panel.dataset.claim) return;
    const button = section.querySelector('button[data-key="a"]');
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

  const toggleHelp = keysUI.toggleHelp;

  // Keys in a field: Enter (or Ctrl+Enter) in the rationale or date saves, Shift+Enter is
  // a new line; Esc leaves any field of the screen. A dialog handles its own Esc.
  function fieldKey(event) {
    const target = event.target;
    if (event.key === "Escape" && !target.closest("dialog[open]") && target.closest(".screen")) {
      if (target.matches("a.claim")) return false;
      backToText();
      return true;
    }
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.metaKey) return false;
    if (!inVerdictField(target)) return false;
    save();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector(".screen") || event.isComposing) return;
    if (fieldKey(event)) {
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    // Keys wait while the help is open; a dialog just closed may still hold the focus.
    if (event.target.closest("dialog[open]") && event.key !== "?") return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      1: () => press("1"),
      2: () => press("2"),
      3: () => press("3"),
      0: () => press("0"),
      h: () => press("h"),
      r: () => focusField("rationale"),
      d: () => focusField("as_of"),
      e: openEvidence,
      a: adopt,
      "?": toggleHelp,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("click", function (event) {
    // The link goes to the keys page; with the dialog here, it opens that instead.
    if (event.target.closest("[data-help]") && document.getElementById("help")) {
      event.preventDefault();
      toggleHelp();
    }
    // A narrow screen's sheet closes without a page load (the link reloads without it).
    const close = event.target.closest("[data-sheet-close]");
    const panel = document.getElementById("claim-panel");
    if (close && panel) {
      event.preventDefault();
      panel.classList.add("closed");
      backToText();
    }
  });

  // A saved verdict is announced as `j` announces a claim, once its highlight has changed.
  let assessed = null;
  document.addEventListener("verdict-changed", function (event) {
    assessed = event.detail && event.detail.claim;
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
    // On a narrow screen the panel is a sheet over the text: keep the claim above it.
    if (current && event.target === panel && getComputedStyle(panel).position === "fixed") {
      current.scrollIntoView({ block: "nearest" });
    }
    const saved = assessed && document.getElementById("claim-" + assessed);
    if (saved) {
      assessed = null;
      announce(describe(saved));
    }
  });
  // Any settle may be the last thing the panel waited for; other parts of the same swap
  // settle right after this one, so look once they are done.
  document.addEventListener("htmx:afterSettle", function () {
    window.setTimeout(runQueuedSteps);
  });
})();

// The disagreement queue, for reviewers: `j` / `k` move from claim to claim, `1` `2` `3`
// rule with the rationale (and date) typed in that claim's form, `0` withdraws the ruling,
// `r` / `d` open its fields, where Enter saves and Esc comes back. Keys act on the claim
// that has the focus (or holds the field that has it), never while its ruling is on its
// way: the form on screen may be one the answer is about to replace.
(function () {
  "use strict";
  const saving = new Map(); // the XHR of each ruling in flight -> its item's id
  const htmxForms = new WeakSet();
  let current = null; // the id of the item keys act on
  let pending = null; // a ruling key pressed before the rationale: {item, value}

  function queue() {
    return document.querySelector("ol.queue[data-keys]");
  }

  function itemOf(element) {
    return element && element.closest ? element.closest("ol.queue .queue-item") : null;
  }

  function items() {
    return Array.from(document.querySelectorAll("ol.queue .queue-item"));
  }

  function currentItem() {
    return current ? document.getElementById(current) : null;
  }

  function mark(item) {
    document.querySelectorAll(".queue-item.current").forEach((i) => i.classList.remove("current"));
    if (!item) return;
    item.classList.add("current");
    if (current !== item.id) pending = null;
    current = item.id;
  }

  function announce(text) {
    keysUI.announce(".queue-screen", text);
  }

  // "Claim 14, contested, 2 of 5": what `j` / `k` say.
  function describe(item) {
    const all = items();
    const state = item.querySelector("h2 .badge");
    return "Claim " + item.dataset.ordinal + ", " + (state ? state.textContent.toLowerCase() : "") +
      ", " + (all.indexOf(item) + 1) + " of " + all.length;
  }

  // "Claim 14 ruled disputed", or why it was not.
  function outcome(item) {
    const alert = item.querySelector("[role=alert]");
    const ruling = item.querySelector(".adjudicated .badge");
    if (alert) return alert.textContent;
    if (ruling) return "Claim " + item.dataset.ordinal + " ruled " + ruling.textContent.toLowerCase();
    return "Claim " + item.dataset.ordinal + ": ruling withdrawn";
  }

  function focusItem(item, smooth) {
    mark(item);
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
  }

  function move(step) {
    const all = items();
    if (all.length === 0) return;
    let index = all.indexOf(currentItem());
    if (index === -1) index = step > 0 ? 0 : all.length - 1;
    else index = Math.min(all.length - 1, Math.max(0, index + step));
    focusItem(all[index], true);
    announce(describe(all[index]));
  }

  // The item's form, when a key may submit it through htmx.
  function formOf(item) {
    const form = item && item.querySelector("form.adjudicate");
    if (!form || !window.htmx || !htmxForms.has(form)) return null;
    if (Array.from(saving.values()).includes(item.id)) return null;
    if (item.closest(".htmx-added, .htmx-settling")) return null;
    return form;
  }

  function field(form, name) {
    return form.elements.namedItem(name);
  }

  function focusField(name) {
    keysUI.focusField(formOf(currentItem()), name);
  }

  // A click, not requestSubmit: htmx reads the pressed button (its status) from the click.
  // A ruling needs a rationale: without one, the key opens it and Enter rules afterwards.
  function rule(value) {
    const item = currentItem();
    const form = formOf(item);
    const button = form && form.querySelector('button[value="' + value + '"]');
    if (!button || button.disabled) return;
    const rationale = field(form, "rationale");
    if (value !== "withdraw" && rationale && !rationale.value.trim()) {
      pending = { item: item.id, value: value };
      focusField("rationale");
      announce("Write the rationale, then press Enter to rule " + value + ".");
      return;
    }
    pending = null;
    item.focus({ preventScroll: true });
    button.click();
  }

  // Enter in the rationale or date: the ruling asked for before it was written, else the
  // one that stands, with what the fields now say.
  function save(item) {
    const form = formOf(item);
    if (!form) return;
    const asked = pending && pending.item === item.id ? pending.value : null;
    const standing = form.querySelector('button[aria-pressed="true"]');
    const value = asked || (standing && standing.value);
    if (value) rule(value);
    else announce("Press 1, 2 or 3 to rule with this rationale.");
  }

  const toggleHelp = keysUI.toggleHelp;

  // Keys in a field of an item: Enter saves (Shift+Enter is a new line), Esc goes back to
  // the item, keeping what was typed.
  function fieldKey(event) {
    const target = event.target;
    const item = itemOf(target);
    if (!item || target === item || !target.matches("textarea, input:not([type=hidden])")) {
      return false;
    }
    if (event.key === "Escape") {
      focusItem(item, false);
      return true;
    }
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.metaKey) return false;
    save(item);
    return true;
  }

  document.addEventListener("htmx:afterProcessNode", function (event) {
    if (event.target.tagName === "FORM") htmxForms.add(event.target);
  });
  document.addEventListener("htmx:beforeSend", function (event) {
    const item = itemOf(event.detail.elt);
    if (item) saving.set(event.detail.xhr, item.id);
  });
  ["htmx:afterRequest", "htmx:onLoadError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      saving.delete(event.detail.xhr);
    });
  });
  // The ruled item comes back in place of the old one: the focus goes back to it (unless
  // it moved on meanwhile), and a screen reader hears the outcome.
  document.addEventListener("htmx:afterSettle", function (event) {
    const item = itemOf(event.target);
    if (!item || item.id !== current) return;
    const focused = document.activeElement;
    if (!focused || focused === document.body || !document.body.contains(focused)) {
      focusItem(item, false);
    } else {
      mark(item);
    }
    announce(outcome(item));
  });
  document.addEventListener("focusin", function (event) {
    const item = itemOf(event.target);
    if (item && queue()) mark(item);
  });

  document.addEventListener("keydown", function (event) {
    if (!queue() || event.isComposing) return;
    if (fieldKey(event)) {
      event.preventDefault();
      return;
    }
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    if (target.closest("dialog[open]") && event.key !== "?") return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      1: () => rule("supported"),
      2: () => rule("disputed"),
      3: () => rule("outdated"),
      0: () => rule("withdraw"),
      r: () => focusField("rationale"),
      d: () => focusField("as_of"),
      "?": toggleHelp,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
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
