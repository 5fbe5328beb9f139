/**
 * The dashboard page: HTML, stylesheet and script as string modules, so they
 * ship inside the package and the executable (no build step, no CDN). The
 * script renders every piece of room content with `textContent` (through
 * `el()`/`text()`), never as HTML, and makes control and bidi characters
 * visible.
 *
 * @module
 */

/**
 * The page for one token (a 32-character hex string, checked by the
 * server, so it is safe in an attribute).
 *
 * @param token the access token
 */
export function indexHtml(token: string): string {
  if (!/^[0-9a-f]+$/.test(token)) throw new Error("token must be hex");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>agentroom dashboard</title>
<link rel="stylesheet" href="/app.css?token=${token}">
<script src="/app.js?token=${token}" defer></script>
</head>
<body>
<header>
  <h1>agentroom</h1>
  <label>room <select id="room"></select></label>
  <span id="me"></span>
  <span id="status" class="status">connecting…</span>
</header>
<div id="banner" hidden></div>
<main>
  <section id="who"><h2>Who is here <span class="count" id="who-count"></span></h2><table><thead><tr><th>handle</th><th>agent</th><th>role · working on</th><th>presence left</th></tr></thead><tbody id="who-rows"></tbody></table></section>
  <section id="leases"><h2>Leases <span class="count" id="lease-count"></span></h2><table><thead><tr><th>purpose</th><th>resources</th><th>holder</th><th>expires in</th><th></th></tr></thead><tbody id="lease-rows"></tbody></table></section>
  <section id="windows"><h2>Quiet windows <span class="count" id="window-count"></span></h2><table><thead><tr><th>purpose</th><th>resources</th><th>holder</th><th>state</th><th>ends in</th></tr></thead><tbody id="window-rows"></tbody></table></section>
  <section id="tasks"><h2>Tasks</h2><div id="task-lists"></div></section>
  <section id="work"><h2>Work <span class="count" id="work-count"></span></h2><table><thead><tr><th>agent</th><th>state</th><th>scope</th><th>summary</th></tr></thead><tbody id="work-rows"></tbody></table></section>
  <section id="asks"><h2>Asks for you <span class="count" id="ask-count"></span></h2><div id="ask-list"></div></section>
  <section id="compose"><h2>Post as <span id="me-handle"></span></h2>
    <form id="post-form">
      <label>type <input id="post-type" value="NOTE" maxlength="64" size="10"></label>
      <label>to <input id="post-to" placeholder="everyone" size="18"></label>
      <label>reply to <input id="post-reply-to" placeholder="event id" size="16"></label>
      <textarea id="post-text" rows="2" placeholder="a note or a directed message"></textarea>
      <button type="submit" id="post-send">Post</button>
      <span id="post-result" class="result"></span>
    </form>
  </section>
  <section id="feed"><h2>Events <span class="count" id="feed-count"></span></h2>
    <div class="filters">
      <label>type <select id="filter-type"><option value="">all</option></select></label>
      <label>agent <select id="filter-agent"><option value="">all</option></select></label>
      <label>search <input id="filter-search" type="search" size="20"></label>
      <button type="button" id="feed-older">load older</button>
    </div>
    <div id="feed-viewport"><div id="feed-spacer"></div></div>
  </section>
  <section id="thread"><h2>Thread</h2><div id="thread-view" class="muted">click an event to see its thread</div></section>
  <section id="lobby"><h2>Lobby</h2><div id="lobby-list"></div></section>
</main>
</body>
</html>
`;
}

/** The stylesheet. */
export const APP_CSS = String.raw`
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; background: #f6f7f9; color: #1d232b; }
header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: #1d232b; color: #fff; }
header h1 { font-size: 16px; margin: 0; }
header select { max-width: 320px; }
.status { margin-left: auto; padding: 2px 8px; border-radius: 10px; background: #555; }
.status.ok { background: #2e7d32; }
.status.down { background: #c62828; }
#banner { padding: 8px 16px; background: #fff3cd; border-bottom: 1px solid #e0c36b; }
#banner.down { background: #fde2e1; border-color: #e39b97; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; padding: 12px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 10px; min-width: 0; }
section h2 { font-size: 13px; margin: 0 0 6px; text-transform: uppercase; letter-spacing: .04em; color: #4a5563; }
#feed, #leases { grid-column: 1 / -1; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: 2px 4px; border-bottom: 1px solid #eef0f3; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
th { font-weight: 600; color: #4a5563; }
#lease-rows { display: block; max-height: 260px; overflow: auto; }
#leases thead, #lease-rows tr { display: table; width: 100%; table-layout: fixed; }
.count { color: #8a94a3; font-weight: normal; }
.lapsed { color: #c62828; font-weight: 600; }
.soon { color: #b26a00; }
.absent { color: #b26a00; }
.muted { color: #8a94a3; }
.mono { font-family: ui-monospace, monospace; }
.filters { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
#feed-viewport { position: relative; height: 420px; overflow-y: auto; border: 1px solid #eef0f3; }
#feed-spacer { position: relative; }
.row { position: absolute; left: 0; right: 0; height: 22px; line-height: 22px; padding: 0 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; border-bottom: 1px solid #f3f4f6; }
.work-blocked td:nth-child(2), .work-failed td:nth-child(2) { color: #c62828; font-weight: 600; }
.work-completed td:nth-child(2) { color: #2e7d32; }
.row.alert { background: #fdecea; }
.row:hover { background: #eef4ff; }
.row .t { color: #8a94a3; margin-right: 6px; }
.row .ty { font-weight: 600; margin-right: 6px; }
.row .ag { color: #1a56db; margin-right: 6px; }
.row .to { color: #7e3af2; margin-right: 6px; }
.item { padding: 3px 0; border-bottom: 1px solid #f3f4f6; overflow-wrap: anywhere; }
.item .ty { font-weight: 600; margin-right: 6px; }
.item .ag { color: #1a56db; margin-right: 6px; }
form { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
textarea { width: 100%; font: inherit; }
.result { color: #4a5563; }
.result.err { color: #c62828; }
button.small { font-size: 11px; padding: 0 6px; }
#thread-view .item { white-space: pre-wrap; }
`;

/** The script (no inline script: the CSP allows only this file). */
export const APP_JS = String.raw`"use strict";
(function () {
  var params = new URL(location.href).searchParams;
  var token = params.get("token") || "";
  var roomName = params.get("room") || "";
  var ROW = 22;
  // breaks, steals, conflicts, bypasses and failures stand out in the feed
  var ALERT = /BROKEN|STOLEN|CONFLICT|BYPASS|FAILED|EXPIRED|LAPSED/;
  var PAGE = 1000;
  var state = null;
  var offset = 0;
  var events = [];
  var seen = new Set();
  var view = [];
  var oldest = "";
  var exhausted = false;
  var loadingOlder = false;
  var lapsed = new Map();
  var askNodes = new Map();
  var wake = 0;
  var source = null;
  var lobbySource = null;
  var lobbyEvents = [];
  var types = new Set();
  var agents = new Set();

  function $(id) { return document.getElementById(id); }

  // Room text is data: control, bidi and other invisible format characters become visible marks.
  function clean(value) {
    var s = typeof value === "string" ? value : JSON.stringify(value);
    if (s === undefined) s = "";
    return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, function (c) {
      if (c === "\u001b") return "\u241b";
      return "<U+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + ">";
    });
  }
  function oneLine(value, max) {
    var s = clean(value).replace(/[\r\n\t]+/g, " \u23ce ");
    return s.length > (max || 300) ? s.slice(0, max || 300) + "\u2026" : s;
  }
  function el(tag, cls) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function td(text, cls) { var c = el("td", cls, text); c.title = text; return c; }
  function serverNow() { return Date.now() + offset; }
  function left(ms) {
    if (ms <= 0) return "lapsed";
    var s = Math.ceil(ms / 1000);
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m " + (s % 60) + "s";
    return Math.floor(m / 60) + "h " + (m % 60) + "m";
  }
  function countdown(expires) {
    var span = el("span", "countdown");
    span.setAttribute("data-expires", String(expires));
    paintCountdown(span);
    return span;
  }
  function paintCountdown(span) {
    var ms = Number(span.getAttribute("data-expires")) - serverNow();
    span.textContent = left(ms);
    span.className = "countdown" + (ms <= 0 ? " lapsed" : ms < 30000 ? " soon" : "");
  }
  function time(ts) {
    var d = new Date(ts);
    return d.toTimeString().slice(0, 8);
  }
  function short(id) {
    var s = String(id || "");
    return s.length > 28 ? s.slice(0, 28) + "\u2026" : s;
  }
  function handleOf(agentId) {
    if (!state) return agentId;
    for (var i = 0; i < state.presence.length; i++) {
      if (state.presence[i].agent_id === agentId) return state.presence[i].handle;
    }
    return agentId;
  }
  function present(agentId) {
    if (!state) return true;
    return state.presence.some(function (p) { return p.agent_id === agentId; });
  }

  function query(extra) {
    var q = new URLSearchParams(extra || {});
    if (roomName) q.set("room", roomName);
    return q.toString();
  }
  function api(path, extra, body) {
    var init = { headers: { "x-agentroom-token": token } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path + "?" + query(extra), init).then(function (r) {
      return r.json().catch(function () { return { error: r.status + " " + r.statusText }; }).then(function (v) {
        if (!r.ok) throw new Error(v && v.error ? v.error : r.status + " " + r.statusText);
        return v;
      });
    });
  }

  function setStatus(ok, text) {
    var s = $("status");
    s.textContent = text;
    s.className = "status " + (ok ? "ok" : "down");
    var b = $("banner");
    if (ok) { b.hidden = true; b.textContent = ""; }
    else { b.hidden = false; b.className = "down"; b.textContent = text; }
  }
  function notice(text) {
    var b = $("banner");
    b.hidden = false;
    b.className = "";
    b.textContent = text;
  }

  // ---------- state panels ----------
  function renderState() {
    if (!state) return;
    if (!state.exists) {
      notice("unknown room " + oneLine(state.room) + ": nothing has been written to it in this Redis (pick a room above)");
    } else if ($("banner").className !== "down") {
      $("banner").hidden = true;
    }
    $("me").textContent = "you are " + oneLine(state.human.handle);
    $("me-handle").textContent = oneLine(state.human.handle);
    renderWho();
    renderLeases();
    renderWindows();
    renderTasks();
    renderWork();
    renderAsks();
    scheduleWake();
  }
  function renderWho() {
    var rows = state.presence.map(function (p) {
      var tr = el("tr", null, td(oneLine(p.handle)), td(oneLine(p.agent_id), "mono"), td(oneLine(p.description || "")));
      tr.appendChild(el("td", null, countdown(state.now + p.ttl_ms)));
      return tr;
    });
    $("who-rows").replaceChildren.apply($("who-rows"), rows);
    $("who-count").textContent = String(state.presence.length);
  }
  function renderLeases() {
    var now = state.now;
    var live = new Set(state.leases.map(function (l) { return l.id; }));
    var rows = [];
    lapsed.forEach(function (l, id) { if (live.has(id)) lapsed.delete(id); });
    state.leases.forEach(function (l) {
      var holder = oneLine(handleOf(l.owner));
      var holderCell = td(holder + (present(l.owner) ? "" : " (absent)"), present(l.owner) ? "" : "absent");
      var tr = el("tr", "lease", td(oneLine(l.purpose)), td(oneLine(l.resources.join(", ")), "mono"), holderCell);
      tr.setAttribute("data-lease", l.id);
      tr.appendChild(el("td", null, countdown(l.expires_at)));
      var btn = el("button", "small", "break");
      btn.type = "button";
      btn.addEventListener("click", function () { breakLease(l); });
      tr.appendChild(el("td", null, btn));
      rows.push(tr);
    });
    lapsed.forEach(function (l) {
      var tr = el("tr", "lease lapsed", td(oneLine(l.purpose)), td(oneLine(l.resources.join(", ")), "mono"), td(oneLine(handleOf(l.owner))), td("lapsed", "lapsed"), td(""));
      tr.setAttribute("data-lease", l.id);
      rows.push(tr);
    });
    $("lease-rows").replaceChildren.apply($("lease-rows"), rows);
    $("lease-count").textContent = state.lease_count + (state.lease_count > state.leases.length ? " (showing " + state.leases.length + ")" : "");
    void now;
  }
  function renderWindows() {
    var rows = state.windows.map(function (w) {
      var tr = el("tr", null, td(oneLine(w.purpose)), td(oneLine(w.resources.join(", ")), "mono"), td(oneLine(handleOf(w.owner)) + (present(w.owner) ? "" : " (absent)"), present(w.owner) ? "" : "absent"), td(w.state));
      tr.appendChild(el("td", null, countdown(w.expires_at)));
      return tr;
    });
    $("window-rows").replaceChildren.apply($("window-rows"), rows);
    $("window-count").textContent = String(state.window_count);
  }
  function renderTasks() {
    var box = $("task-lists");
    var t = state.tasks;
    var open = el("div", null, el("h3", null, "open (" + t.open.length + ")"));
    t.open.slice(0, 100).forEach(function (e) {
      open.appendChild(el("div", "item", el("span", "ty", oneLine(e.type)), el("span", "mono muted", e.id + " "), oneLine(e.payload, 200)));
    });
    var claimed = el("div", null, el("h3", null, "claimed (" + t.claimed.length + ")"));
    t.claimed.forEach(function (c) {
      claimed.appendChild(el("div", "item", el("span", "ty", oneLine(c.task.type)), el("span", present(c.owner) ? "ag" : "ag absent", oneLine(handleOf(c.owner)) + (present(c.owner) ? "" : " (absent)")), oneLine(c.task.payload, 120), " \u2014 ", countdown(state.now + c.ttl_ms)));
    });
    var done = el("div", null, el("h3", null, "done (" + t.done_count + ")"));
    t.done.forEach(function (d) {
      done.appendChild(el("div", "item", el("span", "mono muted", d.id + " "), oneLine(d.result, 200)));
    });
    box.replaceChildren(open, claimed, done);
  }
  function renderWork() {
    var rows = state.work.map(function (w) {
      return el("tr", "work-" + w.state, td(oneLine(w.agent_handle || w.agent_id)), td(oneLine(w.state)), td(oneLine(w.scope)), td(oneLine(w.summary)));
    });
    $("work-rows").replaceChildren.apply($("work-rows"), rows);
    $("work-count").textContent = String(state.work_count);
  }
  function isMine(e) {
    return state && e.type === "ASK" && (e.to === state.human.agent_id || e.to === state.human.handle);
  }
  function renderAsks() {
    var answered = new Set();
    events.forEach(function (e) { if (e.type === "REPLY" && e.reply_to) answered.add(e.reply_to); });
    var mine = events.filter(function (e) { return isMine(e) && !answered.has(e.id); });
    // keep the nodes of asks already shown, so a half-typed answer survives a refresh
    var items = mine.slice(0, 50).map(function (e) {
      var kept = askNodes.get(e.id);
      if (kept) return kept;
      var input = el("input");
      input.size = 40;
      input.placeholder = "your answer";
      var btn = el("button", "small", "reply");
      btn.type = "button";
      var result = el("span", "result");
      btn.addEventListener("click", function () {
        api("/api/reply", null, { ask_id: e.id, text: input.value }).then(function () {
          result.textContent = "replied";
          result.className = "result";
        }, function (err) { result.textContent = err.message; result.className = "result err"; });
      });
      var item = el("div", "item ask", el("span", "ag", oneLine(handleOf(e.agent_id))), oneLine(e.payload), el("div", null, input, btn, result));
      item.setAttribute("data-ask", e.id);
      askNodes.set(e.id, item);
      return item;
    });
    // the same asks in the same order: leave the list alone (a re-attached input loses focus)
    var list = $("ask-list");
    var same = list.children.length === items.length && items.every(function (n, i) { return list.children[i] === n; });
    if (!same) list.replaceChildren.apply(list, items);
    $("ask-count").textContent = String(mine.length);
  }
  function breakLease(l) {
    var reason = window.prompt("Break the lease on " + l.resources.join(", ") + " held by " + l.owner + "? Reason:", "holder is gone");
    if (reason === null) return;
    sendBreak(l, reason, false);
  }
  function sendBreak(l, reason, now) {
    api("/api/break", null, { lease_id: l.id, reason: reason, now: now }).then(function (v) {
      var r = v.result;
      if (r.outcome === "grace" && !now) {
        var why = "The holder has been absent " + left(r.absentMs) + " of the " + left(r.graceMs) + " grace period.";
        if (window.confirm(why + " Break it now anyway?")) return sendBreak(l, reason, true);
        notice("not broken: " + why);
        return;
      }
      var text = r.outcome === "broken" ? "lease broken" :
        r.outcome === "present" ? "refused: the holder is present" :
        r.outcome === "own" ? "refused: the lease is yours" :
        r.outcome === "grace" ? "refused: grace period" : "the lease is gone";
      notice(text);
      refresh();
    }, function (err) { notice("break failed: " + err.message); });
  }

  // countdowns: one timer; a wake-up at the next known expiry refreshes the state
  function tick() {
    var spans = document.querySelectorAll("[data-expires]");
    for (var i = 0; i < spans.length; i++) paintCountdown(spans[i]);
  }
  function scheduleWake() {
    if (wake) clearTimeout(wake);
    wake = 0;
    if (!state) return;
    var times = [];
    state.leases.forEach(function (l) { times.push(l.expires_at); });
    state.windows.forEach(function (w) { times.push(w.expires_at); });
    state.presence.forEach(function (p) { times.push(state.now + p.ttl_ms); });
    state.tasks.claimed.forEach(function (c) { times.push(state.now + c.ttl_ms); });
    var next = Math.min.apply(null, times.filter(function (t) { return t > state.now; }));
    if (!isFinite(next)) return;
    var previous = state.leases.slice();
    wake = setTimeout(function () {
      var before = serverNow();
      refresh().then(function () {
        previous.forEach(function (l) {
          if (l.expires_at <= before + 1000 && !state.leases.some(function (x) { return x.id === l.id; })) {
            lapsed.set(l.id, l);
          }
        });
        renderLeases();
      });
    }, Math.max(50, next - serverNow() + 250));
  }
  function refresh() {
    return api("/api/state").then(function (s) { setState(s); }, function (err) { setStatus(false, err.message); });
  }
  function setState(s) {
    state = s;
    offset = s.now - Date.now();
    renderState();
  }

  // ---------- feed (virtualised) ----------
  function addEvents(list, newest) {
    var added = [];
    list.forEach(function (e) {
      if (seen.has(e.id)) return;
      seen.add(e.id);
      added.push(e);
      if (!types.has(e.type)) { types.add(e.type); addOption("filter-type", e.type); }
      if (!agents.has(e.agent_id)) { agents.add(e.agent_id); addOption("filter-agent", e.agent_id); }
    });
    if (newest) events = added.reverse().concat(events); // list is oldest first
    else events = events.concat(added); // list is newest first
    if (events.length) oldest = events[events.length - 1].id;
    applyFilter();
    renderAsks();
  }
  function addOption(id, value) {
    var opt = el("option", null, oneLine(value, 60));
    opt.value = value;
    $(id).appendChild(opt);
  }
  function applyFilter() {
    var t0 = performance.now();
    var type = $("filter-type").value;
    var agent = $("filter-agent").value;
    var search = $("filter-search").value.toLowerCase();
    view = events.filter(function (e) {
      if (type && e.type !== type) return false;
      if (agent && e.agent_id !== agent) return false;
      if (search) {
        var hay = (e.type + " " + e.agent_id + " " + e.to + " " + JSON.stringify(e.payload)).toLowerCase();
        if (hay.indexOf(search) === -1) return false;
      }
      return true;
    });
    $("feed-spacer").style.height = (view.length * ROW) + "px";
    $("feed-count").textContent = view.length === events.length ? String(events.length) : view.length + " of " + events.length;
    renderRows();
    document.body.setAttribute("data-feed-render-ms", (performance.now() - t0).toFixed(1));
  }
  function renderRows() {
    var vp = $("feed-viewport");
    var first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 10);
    var last = Math.min(view.length, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW) + 10);
    var rows = [];
    for (var i = first; i < last; i++) rows.push(row(view[i], i));
    $("feed-spacer").replaceChildren.apply($("feed-spacer"), rows);
    if (!exhausted && !loadingOlder && last >= view.length - 5 && events.length > 0 && view.length === events.length) loadOlder();
  }
  function row(e, i) {
    var r = el("div", ALERT.test(e.type) ? "row alert" : "row", el("span", "t", time(e.timestamp)), el("span", "ty", oneLine(e.type, 64)), el("span", "ag", oneLine(short(e.agent_id))));
    if (e.to) r.appendChild(el("span", "to", "\u2192 " + oneLine(short(e.to))));
    if (e.reply_to) r.appendChild(el("span", "muted", "\u21b3 "));
    r.appendChild(document.createTextNode(oneLine(e.payload)));
    r.style.top = (i * ROW) + "px";
    r.setAttribute("data-id", e.id);
    r.addEventListener("click", function () { showThread(e.id); });
    return r;
  }
  function loadOlder() {
    if (exhausted || loadingOlder) return Promise.resolve();
    loadingOlder = true;
    return api("/api/events", { before: oldest, count: String(PAGE) }).then(function (list) {
      loadingOlder = false;
      if (list.length < PAGE) exhausted = true;
      $("feed-older").disabled = exhausted;
      addEvents(list, false);
    }, function (err) { loadingOlder = false; setStatus(false, err.message); });
  }
  function showThread(id) {
    api("/api/thread", { id: id }).then(function (chain) {
      var items = chain.map(function (e) {
        var item = el("div", "item" + (e.id === id ? " focus" : ""), el("span", "t muted", time(e.timestamp) + " "), el("span", "ty", oneLine(e.type, 64)), el("span", "ag", oneLine(e.agent_id)), e.to ? el("span", "muted", "\u2192 " + oneLine(e.to) + " ") : null, clean(e.payload));
        var btn = el("button", "small", "reply");
        btn.type = "button";
        btn.addEventListener("click", function () {
          $("post-reply-to").value = e.id;
          $("post-to").value = e.agent_id;
          $("post-text").focus();
        });
        item.appendChild(el("span", null, " ", btn));
        return item;
      });
      $("thread-view").className = "";
      $("thread-view").replaceChildren.apply($("thread-view"), items);
    }, function (err) { $("thread-view").textContent = err.message; });
  }

  // ---------- lobby ----------
  function renderLobby() {
    var items = lobbyEvents.slice(0, 50).map(function (e) {
      return el("div", "item", el("span", "t muted", time(e.timestamp) + " "), el("span", "ty", oneLine(e.type, 64)), el("span", "ag", oneLine(short(e.agent_id))), oneLine(e.payload, 300));
    });
    $("lobby-list").replaceChildren.apply($("lobby-list"), items);
  }

  // ---------- live streams ----------
  function connect(after) {
    source = new EventSource("/api/stream?" + query(after ? { token: token, after: after } : { token: token }));
    source.addEventListener("status", function (m) {
      var s = JSON.parse(m.data);
      if (s.ok) setStatus(true, "live");
      else setStatus(false, "Redis unavailable: " + s.error + " (retrying)");
    });
    source.addEventListener("state", function (m) { setState(JSON.parse(m.data)); });
    source.addEventListener("events", function (m) { addEvents(JSON.parse(m.data), true); });
    source.onerror = function () { setStatus(false, "connection to the dashboard lost (retrying)"); };
    var lobbyQuery = new URLSearchParams({ token: token, room: "lobby" });
    lobbySource = new EventSource("/api/stream?" + lobbyQuery.toString());
    lobbySource.addEventListener("events", function (m) {
      JSON.parse(m.data).forEach(function (e) { lobbyEvents.unshift(e); });
      renderLobby();
    });
  }
  function loadLobby() {
    var q = new URLSearchParams({ room: "lobby", before: "", count: "50" });
    return fetch("/api/events?" + q.toString(), { headers: { "x-agentroom-token": token } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) { lobbyEvents = list.concat(lobbyEvents); renderLobby(); }, function () {});
  }
  function loadRooms() {
    return api("/api/rooms").then(function (v) {
      var current = roomName || v.default;
      var names = v.rooms.indexOf(current) === -1 ? [current].concat(v.rooms) : v.rooms;
      var sel = $("room");
      sel.replaceChildren();
      names.forEach(function (n) {
        var opt = el("option", null, oneLine(n, 100));
        opt.value = n;
        if (n === current) opt.selected = true;
        sel.appendChild(opt);
      });
    }, function () {});
  }

  function start() {
    $("feed-viewport").addEventListener("scroll", function () { renderRows(); });
    ["filter-type", "filter-agent"].forEach(function (id) { $(id).addEventListener("change", applyFilter); });
    $("filter-search").addEventListener("input", applyFilter);
    $("feed-older").addEventListener("click", function () { loadOlder(); });
    $("room").addEventListener("change", function () {
      var u = new URL(location.href);
      u.searchParams.set("room", $("room").value);
      location.href = u.toString();
    });
    $("post-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var result = $("post-result");
      api("/api/post", null, {
        type: $("post-type").value,
        to: $("post-to").value,
        reply_to: $("post-reply-to").value,
        text: $("post-text").value,
      }).then(function (v) {
        result.textContent = "posted " + v.event.type + " " + v.event.id;
        result.className = "result";
        $("post-text").value = "";
        $("post-reply-to").value = "";
      }, function (err) { result.textContent = err.message; result.className = "result err"; });
    });
    setInterval(tick, 1000);
    // the stream starts right after the newest event of the first page: nothing falls between
    loadOlder().then(function () { connect(events.length ? events[0].id : ""); });
    loadLobby();
    loadRooms();
  }
  window.__agentroom = {
    loadOlder: loadOlder,
    eventCount: function () { return events.length; },
    exhausted: function () { return exhausted; },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
`;
