/* Balie agent UI: live updates, forms without page reloads, keyboard shortcuts.
   Everything works without this file too; it only makes the same forms and links faster.
   No inline scripts or styles anywhere (the Content-Security-Policy forbids them). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var REGIONS = ["thread-region", "details-region", "customer-region"];

  function byId(id) { return document.getElementById(id); }
  function workspace() { return document.querySelector("main.workspace"); }
  function openId() {
    var main = workspace();
    return main && main.dataset.openId ? main.dataset.openId : null;
  }

  /* --- toast ------------------------------------------------------------------- */
  var toastTimer = null;
  function toast(message, isError) {
    var element = byId("toast");
    if (!element || !message) { return; }
    element.textContent = message;
    element.classList.toggle("toast--error", Boolean(isError));
    element.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { element.hidden = true; }, isError ? 6000 : 2500);
  }

  /* --- refreshing parts of the page -------------------------------------------- */
  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Balie-Async": "1" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  function withOpen(url) {
    var id = openId();
    if (!id) { return url; }
    return url + (url.indexOf("?") === -1 ? "?" : "&") + "open=" + encodeURIComponent(id);
  }

  function refreshList() {
    var main = workspace();
    var region = byId("list-region");
    if (!main || !region || !main.dataset.listUrl) { return Promise.resolve(); }
    var cursorId = currentCursorId();
    return fetchHtml(withOpen(main.dataset.listUrl)).then(function (doc) {
      var focused = region.contains(document.activeElement) ? document.activeElement.closest("[data-conversation-id]") : null;
      if (focused) { cursorId = focused.dataset.conversationId; }
      var keep = region.scrollTop;
      region.replaceChildren.apply(region, Array.from(doc.body.childNodes));
      region.scrollTop = keep;
      // The keyboard user keeps their place (and their focus) in the fresh list.
      if (cursorId) { setCursorById(cursorId, Boolean(focused)); }
    }).catch(function () { /* the next event or the minute tick tries again */ });
  }

  function refreshConversation() {
    var id = openId();
    if (!id) { return Promise.resolve(); }
    var thread = byId("thread-region");
    var nearBottom = thread && thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    return fetchHtml("/ui/partials/conversation/" + id + window.location.search).then(function (doc) {
      REGIONS.forEach(function (regionId) {
        var current = byId(regionId);
        var fresh = doc.getElementById(regionId);
        if (!current || !fresh) { return; }
        // Never pull a control, or what was typed into it, away from the agent; catch up later.
        if (busy(current)) {
          stale = true;
          return;
        }
        var keep = current.scrollTop;
        var openDetails = Array.from(current.querySelectorAll("details[open]")).map(function (d) { return d.id; });
        current.replaceChildren.apply(current, Array.from(fresh.childNodes));
        openDetails.forEach(function (detailsId) { var d = byId(detailsId); if (d) { d.open = true; } });
        current.scrollTop = keep;
      });
      if (nearBottom) { scrollThreadToEnd(); }
    }).catch(function () { /* a conversation merged away or gone: leave the page as it is */ });
  }

  function busy(region) {
    var active = document.activeElement;
    if (region.contains(active) && active.matches("input, select, textarea")) { return true; }
    return Array.from(region.querySelectorAll("input:not([type=hidden]), textarea")).some(function (field) {
      return field.value !== field.defaultValue;
    });
  }

  var stale = false;
  document.addEventListener("focusout", function () {
    if (stale) { stale = false; scheduleRefresh(false, true); }
  });

  var pending = { list: false, conversation: false };
  var refreshTimer = null;
  function scheduleRefresh(list, conversation) {
    pending.list = pending.list || list;
    pending.conversation = pending.conversation || conversation;
    if (refreshTimer) { return; }
    // Events come in bursts (a reply is message.created + conversation.updated): one fetch each.
    refreshTimer = setTimeout(function () {
      var doList = pending.list, doConversation = pending.conversation;
      pending.list = pending.conversation = false;
      refreshTimer = null;
      if (doList) { refreshList(); }
      if (doConversation) { refreshConversation(); }
    }, 120);
  }

  function scrollThreadToEnd() {
    var thread = byId("thread-region");
    if (thread) { thread.scrollTop = thread.scrollHeight; }
  }

  /* --- live events (server-sent events) ----------------------------------------- */
  function listen() {
    if (!workspace() || !window.EventSource) { return; }
    var source = new EventSource("/ui/events");
    var status = byId("live-status");
    var wasDown = false;
    function handle(event) {
      var data = {};
      try { data = JSON.parse(event.data || "{}"); } catch (error) { data = {}; }
      var id = openId();
      var mine = id && (String(data.conversation_id) === id || event.type === "customer.merged" ||
        event.type === "customer.updated");
      scheduleRefresh(true, Boolean(mine));
    }
    ["message.created", "conversation.updated", "customer.merged", "customer.updated",
     "message.delivery"].forEach(function (type) {
      source.addEventListener(type, handle);
    });
    // An automation rule's "notify agents": its text, as plain text, with the rule's name.
    source.addEventListener("automation.notify", function (event) {
      var data = {};
      try { data = JSON.parse(event.data || "{}"); } catch (error) { data = {}; }
      if (data.text) { toast((data.rule ? data.rule + ": " : "") + data.text + " (#" + data.conversation_id + ")"); }
    });
    source.addEventListener("ready", function () {
      if (status) { status.hidden = true; }
      // Back after a break: catch up on whatever happened meanwhile.
      if (wasDown) { scheduleRefresh(true, true); }
      wasDown = false;
    });
    source.addEventListener("error", function () {
      wasDown = true;
      if (status) { status.hidden = false; }
    });
    // Waiting times move on even when nothing happens.
    setInterval(function () { scheduleRefresh(true, false); }, 60000);
  }

  /* --- forms ------------------------------------------------------------------- */
  function submitAsync(form, submitter) {
    var body = new FormData(form);
    // Which button was pressed matters ("Send" or "Send & resolve"); FormData alone forgets it.
    if (submitter && submitter.name) { body.set(submitter.name, submitter.value); }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken, "X-Balie-Async": "1", "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      return response.json().catch(function () { return {}; }).then(function (data) {
        var messages = byId("toast") ? byId("toast").dataset : {};
        if (!response.ok) {
          toast(data.detail || messages.failed, true);
          return;
        }
        toast(messages[data.notice] || "");
        // Saved: what is in the fields is no longer unsaved work, so a refresh may replace it.
        form.querySelectorAll("input, textarea").forEach(function (field) { field.defaultValue = field.value; });
        if (form.hasAttribute("data-composer")) {
          var composer = byId("composer");
          composer.value = "";
          var error = byId("composer-error");
          if (error) { error.remove(); }
        }
        scheduleRefresh(true, true);
      });
    }).catch(function () {
      toast(byId("toast") ? byId("toast").dataset.failed : "", true);
    }).finally(function () {
      buttons.forEach(function (button) { button.disabled = false; });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-async") && window.fetch) {
      event.preventDefault();
      submitAsync(form, event.submitter);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    } else if (target.id === "canned") {
      insertCanned(target);
    } else if (target.name === "mode" && target.form && target.form.id === "composer-form") {
      setMode(target.value);
    }
  });

  /* A chat visitor sees "<agent> is typing": tell Balie at most every 3 s while a reply is typed. */
  var lastTyping = 0;
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.id !== "composer" || !target.form || target.form.classList.contains("composer--note")) { return; }
    var pane = document.getElementById("conversation");
    if (!pane || pane.dataset.channel !== "chat" || Date.now() - lastTyping < 3000) { return; }
    lastTyping = Date.now();
    fetch("/inbox/c/" + pane.dataset.conversationId + "/typing", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken }
    }).catch(function () { /* only a hint */ });
  });

  function insertCanned(select) {
    var option = select.options[select.selectedIndex];
    if (!option || !option.dataset.body) { return; }
    insertText(option.dataset.body);
    select.selectedIndex = 0;
  }

  /* Text put where the agent's cursor is in the reply (a canned reply, an order summary, a tracking link). */
  function insertText(text) {
    var composer = byId("composer");
    if (!composer || !text) { return; }
    var start = composer.selectionStart, end = composer.selectionEnd;
    composer.value = composer.value.slice(0, start) + text + composer.value.slice(end);
    composer.focus();
    composer.selectionStart = composer.selectionEnd = start + text.length;
  }

  /* "Insert order summary" / "Insert tracking link" beside the conversation. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (button) { insertText(button.getAttribute("data-insert")); }
  });

  function setMode(mode) {
    var form = byId("composer-form");
    var composer = byId("composer");
    var radio = byId(mode === "note" ? "mode-note" : "mode-reply");
    if (!form || !composer || !radio) { return; }
    radio.checked = true;
    form.classList.toggle("composer--note", mode === "note");
    composer.placeholder = mode === "note" ? composer.dataset.placeholderNote : composer.dataset.placeholderReply;
    composer.focus();
  }

  /* "More conversations": append the next page instead of leaving the page. */
  document.addEventListener("click", function (event) {
    var more = event.target.closest("#more");
    if (more && more.dataset.partial) {
      event.preventDefault();
      fetchHtml(withOpen(more.dataset.partial)).then(function (doc) {
        var list = byId("conversation-list");
        var fresh = doc.getElementById("conversation-list");
        if (list && fresh) { list.append.apply(list, Array.from(fresh.children)); }
        var next = doc.getElementById("more");
        if (next) { more.replaceWith(next); } else { more.remove(); }
      });
      return;
    }
    if (event.target.closest("#help-button")) { showHelp(); }
  });

  /* --- keyboard ---------------------------------------------------------------- */
  function rows() { return Array.from(document.querySelectorAll("#conversation-list > .row")); }
  function currentCursorId() {
    var row = document.querySelector("#conversation-list > .row--cursor");
    return row ? row.dataset.conversationId : null;
  }
  function setCursor(row, focus) {
    rows().forEach(function (other) { other.classList.toggle("row--cursor", other === row); });
    if (!row) { return; }
    row.scrollIntoView({ block: "nearest" });
    if (focus) { row.querySelector(".row__link").focus({ preventScroll: true }); }
  }
  function setCursorById(id, focus) {
    setCursor(rows().filter(function (row) { return row.dataset.conversationId === id; })[0] || null, focus);
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.findIndex(function (row) { return row.classList.contains("row--cursor"); });
    if (index === -1) { index = all.findIndex(function (row) { return row.classList.contains("row--open"); }); }
    var next = all[Math.max(0, Math.min(all.length - 1, index === -1 ? 0 : index + step))];
    if (openId()) {
      // Beside an open conversation, j/k open the next one straight away.
      if (next.dataset.conversationId !== openId()) { next.querySelector(".row__link").click(); }
      return;
    }
    setCursor(next, true);
  }

  function openCursor() {
    var row = document.querySelector("#conversation-list > .row--cursor");
    if (row) { row.querySelector(".row__link").click(); }
  }

  function submitForm(id) {
    var form = byId(id);
    if (form) { form.requestSubmit(); }
  }

  function showHelp() {
    var dialog = byId("shortcuts");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  var awaitingG = false;
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.matches && target.matches("input, textarea, select, [contenteditable]");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "composer") {
      event.preventDefault();
      var send = byId("send");
      if (send) { send.form.requestSubmit(send); }
      return;
    }
    if (event.key === "Escape" && typing) { target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.querySelector("dialog[open]")) { return; }

    if (awaitingG) {
      awaitingG = false;
      if (event.key === "i") { event.preventDefault(); window.location.href = "/inbox"; }
      return;
    }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": openCursor(); break;
      case "Enter":
        if (!target.closest || !target.closest("a, button")) { openCursor(); } else { return; }
        break;
      case "r": if (byId("composer")) { setMode("reply"); } else { return; } break;
      case "n": if (byId("composer")) { setMode("note"); } else { return; } break;
      case "e": submitForm("resolve-form"); break;
      case "a": submitForm("assign-me-form"); break;
      case "c": // a new e-mail; on its own page, back to the first field
        if (byId("compose-to")) { byId("compose-to").focus(); } else { window.location.href = "/inbox/new"; }
        break;
      case "/": if (byId("search")) { byId("search").focus(); } break;
      case "?": showHelp(); break;
      case "g": awaitingG = true; setTimeout(function () { awaitingG = false; }, 1500); break;
      default: return;
    }
    event.preventDefault();
  });

  /* --- start ------------------------------------------------------------------- */
  function start() {
    scrollThreadToEnd();
    var notice = byId("notice");
    if (notice) { setTimeout(function () { notice.hidden = true; }, 3000); }
    var open = openId();
    if (open) {
      var row = document.querySelector('#conversation-list > .row[data-conversation-id="' + open + '"]');
      if (row) { row.scrollIntoView({ block: "nearest" }); }
    }
    listen();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
