// Knowledge-base suggestions while a customer types the subject of a new request, and
// "This answered my question", which ends the form without a ticket (counted once per
// form by the server). No framework; every label comes translated from the template.
(function () {
  "use strict";
  var DEBOUNCE_MS = 250;
  var MIN_CHARS = 3;
  var MAX_CHARS = 200; // the server refuses longer queries

  var form = document.querySelector("form[data-deflect]");
  if (!form || !window.fetch || !window.AbortController) return;
  var subject = form.querySelector('[name="subject"]');
  var box = document.getElementById("deflect-suggestions");
  var status = document.getElementById("deflect-status");
  var done = document.getElementById("deflect-done");
  if (!subject || !box || !status || !done) return;
  var list = box.querySelector(".deflect-list");
  var pageLang = document.documentElement.lang;
  var pageDir = document.documentElement.dir;

  // Under the subject, where the eye (and the tab order) goes next.
  var field = subject.closest(".field") || subject;
  field.parentNode.insertBefore(box, field.nextSibling);
  subject.setAttribute("aria-describedby", [subject.getAttribute("aria-describedby"), "deflect-status"].filter(Boolean).join(" "));

  var timer = null;
  var inflight = null;
  var lastQuery = "";

  function clear() {
    list.textContent = "";
    box.hidden = true;
    status.textContent = "";
    var error = box.querySelector(".deflect-error");
    if (error) error.remove();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function render(results) {
    list.textContent = "";
    if (!results.length) { clear(); return; }
    results.forEach(function (item, position) {
      var li = element("li", "deflect-item");
      var article = element("div", "deflect-article");
      // The article speaks its own language, which may not be the page's.
      article.lang = item.language;
      article.dir = item.dir;
      var link = element("a", "", item.title);
      link.href = item.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.id = "deflect-article-" + position;
      article.appendChild(link);
      var hint = element("span", "visually-hidden", " " + box.dataset.newTab);
      hint.lang = pageLang;
      article.appendChild(hint);
      if (item.internal) {
        var badge = element("span", "badge kb-internal", box.dataset.internal);
        badge.lang = pageLang;
        article.appendChild(badge);
      }
      if (item.summary) article.appendChild(element("p", "deflect-summary", item.summary));
      var answered = element("button", "button deflect-answered", box.dataset.answered);
      answered.type = "button";
      answered.lang = pageLang;
      answered.dir = pageDir;
      answered.dataset.article = item.id;
      answered.setAttribute("aria-describedby", link.id);
      li.appendChild(article);
      li.appendChild(answered);
      list.appendChild(li);
    });
    box.hidden = false;
    status.textContent = status.dataset.found;
  }

  function search(query) {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    var signal = inflight.signal;
    var url = form.dataset.suggestUrl + "?q=" + encodeURIComponent(query);
    fetch(url, { signal: signal, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 400) return { results: [] }; // e.g. nothing searchable yet
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) { if (!signal.aborted) render(data.results || []); })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        clear();
        status.textContent = status.dataset.failed;
      });
  }

  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = subject.value.replace(/\s+/g, " ").trim().slice(0, MAX_CHARS);
      if (query === lastQuery) return;
      lastQuery = query;
      if (query.length < MIN_CHARS) {
        if (inflight) inflight.abort();
        clear();
        return;
      }
      search(query);
    }, DEBOUNCE_MS);
  });

  function showError(message) {
    var error = box.querySelector(".deflect-error") || element("p", "deflect-error");
    error.setAttribute("role", "alert");
    error.textContent = message;
    box.appendChild(error);
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-article]");
    if (!button) return;
    var buttons = list.querySelectorAll("button[data-article]");
    buttons.forEach(function (b) { b.disabled = true; });
    var body = new FormData();
    body.append("token", form.dataset.deflectToken);
    body.append("article", button.dataset.article);
    var csrf = form.querySelector('[name="csrfmiddlewaretoken"]');
    fetch(form.dataset.deflectUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
    })
      .then(function (response) {
        // A refusal without JSON (a CSRF failure page) reads as a generic failure.
        return response.json()
          .catch(function () { return {}; })
          .then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (!result.ok) throw new Error(result.data.error || "");
        // The form ends here: nothing left to send.
        clearTimeout(timer);
        if (inflight) inflight.abort();
        done.textContent = "";
        done.appendChild(element("p", "", result.data.message));
        if (result.data.url) {
          var again = element("p");
          var link = element("a", "", result.data.title);
          link.href = result.data.url;
          again.appendChild(link);
          done.appendChild(again);
        }
        form.remove();
        done.hidden = false;
        done.focus();
      })
      .catch(function (error) {
        buttons.forEach(function (b) { b.disabled = false; });
        showError(error.message || status.dataset.failed);
      });
  });
})();
