// The desk queue's organisation filter when a tenant has too many organisations for a
// select: suggestions while the agent types a name (GET /desk/organisations/?q=), and
// picking one puts its id in the hidden `organisation` field the queue filters by, as the
// select did. Typing again clears the id; without this script the server looks the typed
// name up itself. No framework; every label comes translated from the template.
(function () {
  "use strict";
  var DEBOUNCE_MS = 200;
  var MAX_CHARS = 100; // the server refuses longer searches

  var box = document.querySelector("[data-organisation-filter]");
  if (!box || !window.fetch || !window.AbortController) return;
  var input = box.querySelector('input[name="organisation_name"]');
  var hidden = box.querySelector('input[name="organisation"]');
  if (!input || !hidden) return;

  var list = document.createElement("ul");
  list.id = "organisation-suggestions";
  list.className = "organisation-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.getAttribute("aria-label") || "");
  list.hidden = true;
  var status = document.createElement("p");
  status.className = "organisation-status";
  status.setAttribute("role", "status");
  box.appendChild(list);
  box.appendChild(status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  var timer = null;
  var inflight = null;
  var lastQuery = null;
  var options = [];
  var active = -1;

  function close() {
    list.hidden = true;
    list.textContent = "";
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function say(text) { status.textContent = text || ""; }

  function highlight(index) {
    if (options[active]) options[active].setAttribute("aria-selected", "false");
    active = index;
    var option = options[active];
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function pick(option) {
    input.value = option.dataset.name;
    hidden.value = option.dataset.id;
    lastQuery = null; // typing the same letters again asks again
    close();
    say("");
  }

  function render(results) {
    close();
    if (!results.length) { say(box.dataset.none); return; }
    say("");
    results.forEach(function (item, position) {
      var option = document.createElement("li");
      option.id = "organisation-option-" + position;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dir = "auto"; // a Persian name in an English page, and the other way round
      option.textContent = item.name;
      option.dataset.id = item.id;
      option.dataset.name = item.name;
      list.appendChild(option);
      options.push(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function search(query) {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    var signal = inflight.signal;
    var url = box.dataset.url + "?q=" + encodeURIComponent(query);
    fetch(url, { signal: signal, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 400) return { results: [] }; // e.g. only a ZWNJ typed
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) { if (!signal.aborted) render(data.results || []); })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        close();
        say(box.dataset.failed);
      });
  }

  input.addEventListener("input", function () {
    hidden.value = ""; // a name being typed is not the organisation picked
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = input.value.replace(/\s+/g, " ").trim().slice(0, MAX_CHARS);
      if (query === lastQuery) return;
      lastQuery = query;
      if (!query) {
        if (inflight) inflight.abort();
        close();
        say("");
        return;
      }
      search(query);
    }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (list.hidden) return; // Enter submits the filter as typed
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault(); // picks; the next Enter submits
      pick(options[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  // mousedown, not click: by the click the input would have lost focus and closed the list.
  list.addEventListener("mousedown", function (event) {
    var option = event.target.closest("[role=option]");
    if (!option) return;
    event.preventDefault();
    pick(option);
  });
  input.addEventListener("blur", function () { close(); say(""); });
})();
