// Live updates over the tenant's websocket. No framework: the pages render on the server,
// this script patches them in place when events arrive, and survives reconnects by
// sending the last event id it applied (the server replays what was missed).
(function () {
  "use strict";
  var body = document.body;
  var mode = body.dataset.live; // "desk" or "portal"
  if (!mode || !window.WebSocket) return;
  var watch = body.dataset.watch || "";
  var applied = new Set();
  // The page shows everything up to the event it was rendered at; ask only for what came
  // after (a reconnect on the same page sends the newest id it applied).
  var lastId = parseInt(body.dataset.lastEvent || "0", 10) || 0;
  var retry = 0;
  var statusBox = document.getElementById("live-status");

  function setStatus(text, state) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.dataset.state = state;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/" + mode + "/");
    socket.onopen = function () {
      retry = 0;
      setStatus(statusBox ? statusBox.dataset.live : "", "live");
      // Watch first: the replay that "hello" asks for covers the socket's groups, and the
      // ticket's own (its watchers', a customer's organisation ticket) is one of them.
      if (watch) socket.send(JSON.stringify({ type: "watch", ticket: watch }));
      socket.send(JSON.stringify({ type: "hello", last_id: lastId }));
      if (watch && mode === "desk") { startPresence(socket); seenSocket = socket; }
    };
    function handle(frame) {
      if (frame.type === "batch") { (frame.frames || []).forEach(handle); return; } // a busy tick's events
      if (frame.type === "resync") { location.reload(); return; }
      if (frame.type === "presence") { showPresence(frame); return; }
      // The ticket left this agent's reach (moved to another department): the page no
      // longer shows what they may see; reloading answers as the server now does.
      if (frame.type === "unwatched" && frame.ticket === watch) { location.reload(); return; }
      if (frame.type !== "event" || applied.has(frame.id)) return;
      applied.add(frame.id);
      if (frame.id > lastId) lastId = frame.id;
      apply(frame.event, frame.id);
    }
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) return; // signed out or not allowed
      setStatus(statusBox ? statusBox.dataset.offline : "", "offline");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry) * (0.5 + Math.random()));
    };
  }

  function text(node, value) { if (node) node.textContent = value; }

  // Collision detection: who else is viewing or replying on this ticket (desk only).
  var presence = {};
  var presenceTimer = null;
  var say = function () {};
  var lastAnswer = 0;
  function startPresence(socket) {
    say = function (state) {
      if (socket.readyState === 1) socket.send(JSON.stringify({ type: "presence", ticket: watch, state: state }));
    };
    say("viewing");
    clearInterval(presenceTimer);
    presenceTimer = setInterval(function () { say("viewing"); }, 20000);
    var box = document.getElementById("id_body");
    var lastTyping = 0;
    if (box) box.addEventListener("input", function () {
      replyingSince = Date.now();
      if (Date.now() - lastTyping > 5000) { lastTyping = Date.now(); say("replying"); }
    });
    window.addEventListener("pagehide", function () { say("left"); });
  }
  function showPresence(frame) {
    if (frame.ticket !== watch) return;
    // Someone new opened the ticket: say we are here too, rather than leave them unaware
    // until our next heartbeat (at most once every few seconds, however many arrive).
    if (frame.state !== "left" && !presence[frame.user_id] && Date.now() - lastAnswer > 3000) {
      lastAnswer = Date.now();
      say(replyingSince && Date.now() - replyingSince < 30000 ? "replying" : "viewing");
    }
    if (frame.state === "left") delete presence[frame.user_id];
    else presence[frame.user_id] = { name: frame.name, state: frame.state, until: Date.now() + frame.expires_in * 1000 };
    renderPresence();
  }
  function renderPresence() {
    var box = document.getElementById("presence");
    if (!box) return;
    var now = Date.now(), lines = [];
    Object.keys(presence).forEach(function (id) {
      var who = presence[id];
      if (who.until < now) { delete presence[id]; return; }
      lines.push((who.state === "replying" ? box.dataset.replying : box.dataset.viewing).replace("{name}", who.name));
    });
    box.textContent = lines.join(" · ");
    box.hidden = lines.length === 0;
  }
  setInterval(renderPresence, 5000);
  var replyingSince = 0;

  // Someone else answered the customer, or the status moved, while this page was open:
  // said above the reply form at once (the server still asks again when it is sent).
  function warnCollision(event, id, statusLabel) {
    var box = document.querySelector(".live-collision");
    if (!box || id <= renderedLastId) return;
    var me = parseInt(body.dataset.userId || "0", 10);
    var line = "";
    if (statusLabel) {
      line = box.dataset.status.replace("{status}", statusLabel);
    } else {
      var message = event.message || {};
      if (message.kind !== "public" || (message.author_id && message.author_id === me)) return;
      line = box.dataset.replied.replace("{name}", message.author_name || "");
    }
    var item = document.createElement("p");
    item.textContent = line;
    box.appendChild(item);
    box.hidden = false;
  }

  // A ticket's newest known state: events reach a socket through several groups (its
  // department, its assignee...), each sent on its own tick, so an older snapshot can
  // arrive after a newer one. Rows and status always show the newest.
  var latest = {};

  function apply(event, id) {
    var ticket = event.ticket;
    var reference = typeof ticket === "string" ? ticket : ticket && ticket.reference;
    if (event.type === "message.created" && reference === watch) {
      appendMessage(event.message);
      warnCollision(event, id);
    }
    if (ticket && typeof ticket === "object") {
      var known = latest[reference];
      if (known && known.id > id) ticket = known.ticket;
      else latest[reference] = { id: id, ticket: ticket };
      if (reference === watch) {
        var status = document.querySelector("[data-live-status]");
        var statusBefore = status ? status.textContent : "";
        text(status, ticket.status_label);
        if (status && status.dataset.status !== undefined) status.dataset.status = ticket.status;
        if (status && statusBefore !== ticket.status_label && (event.changes || []).indexOf("status") >= 0) {
          warnCollision(event, id, ticket.status_label);
        }
        showFields(ticket);
        if (mode === "desk") reportSeen(event, ticket.updated_at);
      }
      var row = document.querySelector('tr[data-reference="' + reference + '"]');
      // Replayed events are older than the page, which already shows where they led.
      var belongs = id > renderedLastId ? inView(ticket) : null;
      if (row && belongs === false) leaveRow(row);
      else if (row) updateRow(row, ticket);
      else if (id > renderedLastId && document.querySelector("#live-queue[data-live-insert]") &&
               (belongs || (belongs === null && event.type === "ticket.created"))) {
        insertRow(ticket); // judged by the queue's rule, or (a customer's list) simply new
      }
    }
    if (ticket) refreshCounts();
    if (reference && reference === watch && id > renderedLastId) refreshTimeline();
    markUnread(event, id);
    notify(event, id);
  }

  // The watched ticket's department, priority and assignee as the desk page shows them
  // (the customer's page has none of these hooks, nor do its events carry them).
  function showFields(ticket) {
    text(document.querySelector("[data-live-department]"), ticket.department);
    text(document.querySelector("[data-live-priority]"), ticket.priority_label);
    var assignee = document.querySelector("[data-live-assignee]");
    if (assignee && "assignee" in ticket) {
      assignee.hidden = !ticket.assignee;
      assignee.textContent = ticket.assignee ? assignee.dataset.label.replace("{name}", ticket.assignee) : "";
    }
  }

  // The agent watched this change happen: the queue need not mark the ticket for them.
  // Said once things settle, and only while the page can be seen. This page shows new
  // messages, the status, department, priority and assignee live, not the other fields:
  // once a change of anything else arrives, it says nothing more (reopening the ticket
  // marks it seen).
  var seenSocket = null, seenPending = "", seenTimer = null, seenShown = true;
  var SHOWN_LIVE = { status: true, activity: true, department: true, priority: true, assignee: true };
  var renderedAt = Date.parse(body.dataset.watchUpdated || "") || 0;
  function reportSeen(event, updatedAt) {
    // The replay after (re)connecting overlaps what the server rendered: already shown.
    if (updatedAt && Date.parse(updatedAt) <= renderedAt) return;
    var shown = event.type === "message.created" ||
      (event.type === "ticket.updated" && (event.changes || []).every(function (c) { return SHOWN_LIVE[c]; }));
    if (!shown) { seenShown = false; seenPending = ""; return; }
    if (!seenShown || !updatedAt) return;
    if (!seenPending || Date.parse(updatedAt) > Date.parse(seenPending)) seenPending = updatedAt;
    clearTimeout(seenTimer);
    seenTimer = setTimeout(sendSeen, 1000);
  }
  function sendSeen() {
    if (!seenPending || document.visibilityState !== "visible") return;
    if (!seenSocket || seenSocket.readyState !== 1) return;
    seenSocket.send(JSON.stringify({ type: "seen", ticket: watch, updated_at: seenPending }));
    seenPending = "";
  }
  document.addEventListener("visibilitychange", sendSeen);

  // The open ticket's history: re-read from the server (the page itself, a second after
  // the last change), which renders each entry as the page does and shows only what this
  // person may see of it.
  var timelineTimer = null;
  function refreshTimeline() {
    if (!document.querySelector("ul.timeline") || !window.DOMParser) return;
    clearTimeout(timelineTimer);
    timelineTimer = setTimeout(function () {
      fetch(location.pathname, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").querySelector("ul.timeline");
          var shown = document.querySelector("ul.timeline");
          if (fresh && shown) shown.innerHTML = fresh.innerHTML;
        })
        .catch(function () { /* the next change tries again */ });
    }, 1000);
  }

  // Queue badges: re-read from the server (a second after the last change) rather than
  // guessed from events, which cannot tell which queues a ticket left.
  var countsTimer = null;
  function refreshCounts() {
    var nav = document.querySelector("nav.queues[data-counts-url]");
    if (!nav) return;
    clearTimeout(countsTimer);
    countsTimer = setTimeout(function () {
      fetch(nav.dataset.countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (counts) {
          if (!counts) return;
          Object.keys(counts).forEach(function (queue) {
            text(nav.querySelector('[data-count="' + queue + '"]'), counts[queue]);
          });
        })
        .catch(function () { /* the next event tries again */ });
    }, 1000);
  }

  // Unread badge: changes that arrive while the tab is in the background count in its
  // title, "(3) Tickets", until the agent comes back to it.
  var unread = 0;
  var baseTitle = document.title;
  function markUnread(event, id) {
    if (mode !== "desk" || document.hasFocus() || !event.type || id <= renderedLastId) return;
    if (event.type.indexOf("ticket.") !== 0 && event.type !== "message.created") return;
    unread += 1;
    document.title = "(" + unread + ") " + baseTitle;
  }
  window.addEventListener("focus", function () {
    unread = 0;
    document.title = baseTitle;
  });

  function appendMessage(message) {
    var list = document.querySelector("ol.conversation");
    if (!list || document.getElementById("m" + message.id)) return;
    // In id order: a reconnect's replay can bring an older message after a newer one.
    var next = null;
    Array.prototype.forEach.call(list.querySelectorAll("li[id^=m]"), function (other) {
      var otherId = parseInt(other.id.slice(1), 10);
      if (!next && otherId > message.id) next = other;
    });
    var item = document.createElement("li");
    item.id = "m" + message.id;
    item.className = "message live-new" + (message.kind === "internal" ? " internal" : "") +
      (message.from_staff ? " staff" : "");
    var header = document.createElement("header");
    var who = document.createElement("strong");
    who.textContent = message.author_name;
    header.appendChild(who);
    var label = message.kind === "internal" ? list.dataset.labelInternal : (message.from_staff ? list.dataset.labelStaff : "");
    if (label) {
      var badge = document.createElement("span");
      badge.className = "badge" + (message.kind === "internal" ? " internal" : "");
      badge.textContent = label;
      header.appendChild(badge);
    }
    var time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = new Date(message.created_at).toLocaleString(document.documentElement.lang);
    header.appendChild(time);
    var body = document.createElement("div");
    body.className = "body";
    body.dir = "auto";
    body.innerHTML = message.body_html; // sanitised by the server (nh3) before it was stored
    item.appendChild(header);
    item.appendChild(body);
    list.insertBefore(item, next);
  }

  // Whether a ticket belongs in this queue page, by the queue's own rule (the server's
  // selectors._queue_filter, and what the agent may see); null where other filters
  // apply, which the page does not know how to judge.
  var ACTIVE = { "new": true, "open": true, "pending": true };
  function inView(ticket) {
    var table = document.getElementById("live-queue");
    var queue = table && table.dataset.queue;
    if (!queue || !ticket.stage) return null;
    var me = parseInt(body.dataset.userId || "0", 10);
    var assignedToMe = ticket.assignee_id === me;
    if (body.dataset.manager === undefined && !mine(ticket.department_id) && !assignedToMe) return false;
    var active = !!ACTIVE[ticket.stage];
    if (queue === "mine") return active && assignedToMe;
    if (queue === "unassigned") return active && !ticket.assignee_id && mine(ticket.department_id);
    if (queue === "waiting") return ticket.stage === "pending";
    if (queue === "resolved") return ticket.stage === "resolved" || ticket.stage === "closed";
    if (queue === "all") return true;
    return active;
  }

  // A ticket that no longer belongs here (assigned away, solved, moved to another
  // department): shown struck through for a few seconds, then taken out.
  function leaveRow(row) {
    if (row.classList.contains("live-left")) return;
    var table = document.getElementById("live-queue");
    row.classList.add("live-left");
    row.title = (table && table.dataset.leftLabel) || "";
    var box = row.querySelector("input[type=checkbox]");
    if (box) { box.checked = false; box.disabled = true; }
    setTimeout(function () { row.remove(); }, 5000);
  }

  function updateRow(row, ticket) {
    text(row.querySelector("[data-col=status]"), ticket.status_label);
    if ("assignee" in ticket) text(row.querySelector("[data-col=assignee]"), ticket.assignee || "—");
    if (ticket.subject) text(row.querySelector("[data-col=subject]"), ticket.subject);
    if (ticket.department) text(row.querySelector("[data-col=department]"), ticket.department);
    if (ticket.priority_label) text(row.querySelector("[data-col=priority]"), ticket.priority_label);
    if (ticket.updated_at) text(row.querySelector("[data-col=updated]"), new Date(ticket.updated_at).toLocaleString(document.documentElement.lang));
    row.classList.add("live-new");
    // Replayed events (a reconnect re-sends the seconds before the page's last event)
    // are not news: only a change newer than the row as drawn marks it.
    var drawn = Date.parse(row.dataset.updated || "");
    var changed = Date.parse(ticket.updated_at || "");
    if (!(changed <= drawn)) {
      if (ticket.updated_at) row.dataset.updated = ticket.updated_at;
      markUnseen(row);
    }
  }

  // The row changed after the page was drawn: marked like the server marks tickets that
  // changed since the agent last opened them (opening the ticket clears it).
  function markUnseen(row) {
    if (row.classList.contains("unseen")) return;
    var table = document.getElementById("live-queue");
    var label = table && table.dataset.unseenLabel;
    row.classList.add("unseen");
    var cell = row.querySelector("a") && row.querySelector("a").parentNode;
    if (!cell || !label) return;
    var mark = document.createElement("span");
    mark.className = "unseen-mark";
    mark.title = label;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = label;
    mark.appendChild(hidden);
    cell.appendChild(mark);
  }

  function insertRow(ticket) {
    var tbody = document.querySelector("#live-queue tbody");
    var template = document.getElementById("live-row");
    if (!tbody || !template) return;
    var row = template.content.firstElementChild.cloneNode(true);
    row.dataset.reference = ticket.reference;
    var box = row.querySelector("input[type=checkbox]"); // the desk's bulk actions
    if (box) {
      box.value = ticket.reference;
      box.setAttribute("aria-label", ticket.reference);
    }
    var empty = tbody.querySelector("tr[data-empty]");
    if (empty) empty.remove();
    var table = document.getElementById("live-queue");
    if (table) table.hidden = false;
    var none = document.getElementById("live-empty"); // the portal's "no requests yet"
    if (none) none.remove();
    var link = row.querySelector("a");
    link.href = (mode === "desk" ? "/desk/tickets/" : "/tickets/") + encodeURIComponent(ticket.reference) + "/";
    link.textContent = ticket.reference;
    text(row.querySelector("[data-col=subject]"), ticket.subject);
    text(row.querySelector("[data-col=requester]"), ticket.requester);
    text(row.querySelector("[data-col=department]"), ticket.department);
    text(row.querySelector("[data-col=status]"), ticket.status_label);
    text(row.querySelector("[data-col=assignee]"), ticket.assignee || "—");
    text(row.querySelector("[data-col=priority]"), ticket.priority_label);
    text(row.querySelector("[data-col=updated]"), new Date(ticket.updated_at).toLocaleString(document.documentElement.lang));
    row.classList.add("live-new");
    if (ticket.updated_at) row.dataset.updated = ticket.updated_at;
    if (mode === "desk") markUnseen(row);
    tbody.insertBefore(row, tbody.firstChild);
  }

  // Notifications, each about a ticket: it is new in one of the agent's departments or
  // was moved there, it was assigned to them, a customer replied (to its assignee; while
  // it has none, to its department's agents), or a note mentions them. Shown in the page
  // (the newest few, each linking to its ticket; none for the ticket this page shows);
  // with the page in the background also as a browser notification and a sound, which are
  // opt-in (a button on the desk asks for permission). Replayed events (what the page
  // already showed when it was rendered) are not news.
  var notices = document.getElementById("live-notices");
  var MAX_NOTICES = 5;
  var renderedLastId = lastId;
  var myDepartments = (body.dataset.departments || "").split(",").filter(Boolean).map(Number);
  var lastAlert = 0;
  function mine(departmentId) { return myDepartments.indexOf(departmentId) >= 0; }

  function noticeKind(event, ticket, me) {
    if (event.type === "ticket.created") return mine(ticket.department_id) ? "new" : "";
    if (event.type === "ticket.assigned") return ticket.assignee_id === me ? "assigned" : "";
    if (event.type === "ticket.updated" && (event.changes || []).indexOf("department") >= 0) {
      return mine(ticket.department_id) && ticket.assignee_id !== me ? "moved" : "";
    }
    if (event.type === "message.created" && event.message) {
      if ((event.message.mentions || []).indexOf(me) >= 0) return "mention";
      if (event.message.from_staff) return "";
      if (event.assignee_id) return event.assignee_id === me ? "reply" : "";
      return mine(event.department_id) ? "reply" : "";
    }
    return "";
  }

  // Label, tracking code and subject are separate runs: in a right-to-left page one text
  // node would mix them up (a code like 1234-AB5C split around a Latin subject).
  function showNotice(label, reference, detail) {
    if (!notices) return;
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = "/desk/tickets/" + encodeURIComponent(reference) + "/";
    link.appendChild(document.createTextNode(label + " · "));
    var code = document.createElement("span");
    code.dir = "ltr";
    code.textContent = reference;
    link.appendChild(code);
    if (detail) {
      link.appendChild(document.createTextNode(" · "));
      var words = document.createElement("bdi");
      words.textContent = detail;
      link.appendChild(words);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", notices.dataset.dismiss || "Dismiss");
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(link);
    item.appendChild(close);
    notices.insertBefore(item, notices.firstElementChild);
    while (notices.children.length > MAX_NOTICES) notices.lastElementChild.remove();
  }

  function notify(event, id) {
    if (mode !== "desk" || id <= renderedLastId) return;
    var me = parseInt(body.dataset.userId || "0", 10);
    var ticket = typeof event.ticket === "object" && event.ticket ? event.ticket : {};
    var reference = ticket.reference || (typeof event.ticket === "string" ? event.ticket : "");
    var kind = noticeKind(event, ticket, me);
    if (!kind || !reference || reference === watch) return; // that page shows it already
    var label = (notices && notices.dataset[kind]) || kind;
    var detail = ticket.subject || (event.message && event.message.author_name) || "";
    showNotice(label, reference, detail);
    // An import of a hundred tickets is one alert, not a hundred beeps.
    if (document.hasFocus() || Date.now() - lastAlert < 2000) return;
    lastAlert = Date.now();
    if (window.Notification && Notification.permission === "granted") {
      // Isolates keep the code and the subject whole in a right-to-left language.
      new Notification(label + " · \u2066" + reference + "\u2069", {
        body: detail ? "\u2068" + detail + "\u2069" : "", tag: kind + ":" + reference,
      });
    }
    if (localStorage.getItem("live:sound") === "on") beep();
  }

  function beep() {
    try {
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.onended = function () { audio.close(); };
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch (e) { /* no audio: nothing to do */ }
  }

  var enable = document.getElementById("live-notifications");
  if (enable && window.Notification) {
    enable.hidden = false;
    enable.addEventListener("click", function () {
      Notification.requestPermission();
      localStorage.setItem("live:sound", "on");
    });
  }

  connect();
})();
