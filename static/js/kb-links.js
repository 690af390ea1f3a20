// Agent desk: search the knowledge base (the portal's suggest endpoint, which shows agents
// internal articles too, marked) and insert an article's title and address into the
// reply. Warns while a public reply links to an internal-only article; the server refuses
// to send such a reply.
(function () {
  "use strict";
  var DEBOUNCE_MS = 250;
  var MIN_CHARS = 2;

  var box = document.querySelector("[data-kb-links]");
  if (!box || !window.fetch || !window.AbortController) return;
  var reply = document.getElementById(box.dataset.target);
  if (!reply) return;
  var internalNote = document.getElementById(box.dataset.internalCheckbox);
  var input = box.querySelector("#kb-links-query");
  var language = box.querySelector("#kb-links-language");
  var list = box.querySelector(".kb-links-list");
  var status = box.querySelector(".kb-links-status");
  var warning = box.querySelector(".kb-links-warning");
  var pageLang = document.documentElement.lang;
  var pageDir = document.documentElement.dir;
  var internalUrls = new Set();
  var replyTouched = false;
  var timer = null;
  var inflight = null;
  box.hidden = false;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function checkInternal() {
    var text = reply.value;
    var linked = Array.from(internalUrls).some(function (url) { return text.indexOf(url) !== -1; });
    warning.hidden = !(linked && !(internalNote && internalNote.checked));
  }

  function insert(item) {
    var snippet = item.title + "\n" + item.url;
    var start = reply.selectionStart, end = reply.selectionEnd, text = reply.value;
    // Where the agent left the caret; at the end when they have not been in the reply yet.
    if (!replyTouched || typeof start !== "number") { start = end = text.length; }
    var before = text.slice(0, start), after = text.slice(end);
    if (before && !/\n$/.test(before)) snippet = "\n" + snippet;
    if (after && !/^\n/.test(after)) snippet = snippet + "\n";
    reply.value = before + snippet + after;
    var caret = (before + snippet).length;
    reply.focus();
    reply.setSelectionRange(caret, caret);
    reply.dispatchEvent(new Event("input", { bubbles: true }));
    if (item.internal) internalUrls.add(item.url);
    checkInternal();
    status.textContent = box.dataset.inserted;
  }

  function render(results) {
    list.textContent = "";
    results.forEach(function (item, position) {
      var li = element("li");
      var article = element("span");
      article.lang = item.language;
      article.dir = item.dir;
      var link = element("a", "", item.title);
      link.href = item.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.id = "kb-link-" + position;
      article.appendChild(link);
      var hint = element("span", "visually-hidden", " " + box.dataset.newTab);
      hint.lang = pageLang;
      article.appendChild(hint);
      if (item.internal) {
        var badge = element("span", "badge internal", box.dataset.internal);
        badge.lang = pageLang;
        article.appendChild(badge);
      }
      var button = element("button", "button", box.dataset.insert);
      button.type = "button";
      button.lang = pageLang;
      button.dir = pageDir;
      button.setAttribute("aria-describedby", link.id);
      button.addEventListener("click", function () { insert(item); });
      li.appendChild(article);
      li.appendChild(button);
      list.appendChild(li);
    });
    status.textContent = results.length ? box.dataset.found : box.dataset.none;
  }

  function search() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = input.value.replace(/\s+/g, " ").trim();
      if (inflight) inflight.abort();
      if (query.length < MIN_CHARS) { list.textContent = ""; status.textContent = ""; return; }
      inflight = new AbortController();
      var signal = inflight.signal;
      var url = box.dataset.suggestUrl + "?q=" + encodeURIComponent(query) +
        "&lang=" + encodeURIComponent(language.value);
      fetch(url, { signal: signal, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (data) {
            if (!response.ok) throw new Error(data.error || box.dataset.failed);
            return data;
          });
        })
        .then(function (data) { if (!signal.aborted) render(data.results || []); })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          list.textContent = "";
          status.textContent = error.message || box.dataset.failed;
        });
    }, DEBOUNCE_MS);
  }

  input.addEventListener("input", search);
  language.addEventListener("change", search);
  // The box sits outside the reply form; Enter must not look like it sends anything.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); search(); }
  });
  reply.addEventListener("input", checkInternal);
  reply.addEventListener("focus", function () { replyTouched = true; });
  if (internalNote) internalNote.addEventListener("change", checkInternal);
})();
