/* Balie chat widget: one script tag, no dependencies.
 *   <script src="https://balie.example/widget.js" data-shop="PUBLIC_KEY" async></script>
 * Optional, for a logged-in customer (signed by the shop's server, see docs/widget.md):
 *   data-customer-id, data-customer-email, data-customer-expires, data-customer-signature
 * Customer text is only ever put on the page with textContent. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-shop][src*='widget.js']");
  if (!script || window.__balieWidget) { return; }
  window.__balieWidget = true;
  var shop = script.getAttribute("data-shop") || "";
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var lang = (navigator.language || "nl").toLowerCase().indexOf("nl") === 0 ? "nl" : "en";
  var T = {
    nl: { open: "Chat met ons", close: "Chat sluiten", title: "Chat", placeholder: "Typ je bericht…",
          send: "Versturen", attach: "Afbeelding of pdf toevoegen", sent: "verzonden", seen: "gelezen",
          sending: "wordt verzonden", typing: "typt…", offline: "Geen verbinding, we proberen het opnieuw…",
          unread: "ongelezen berichten", welcome: "Stel je vraag, we helpen je graag.", you: "Jij",
          failed: "Niet verzonden: ", closed: "Er is nu niemand om te chatten.", leave: "Laat een bericht achter",
          callback: "Bel me terug", email: "Je e-mailadres", name: "Je naam", message: "Je bericht",
          phone: "Je telefoonnummer", topic: "Waarover?", submit: "Versturen", cancel: "Annuleren",
          left: "Dank je! We mailen je antwoord naar ", called: "Dank je! " },
    en: { open: "Chat with us", close: "Close chat", title: "Chat", placeholder: "Type your message…",
          send: "Send", attach: "Add a picture or PDF", sent: "sent", seen: "seen",
          sending: "sending", typing: "is typing…", offline: "No connection, trying again…",
          unread: "unread messages", welcome: "Ask us anything, we are glad to help.", you: "You",
          failed: "Not sent: ", closed: "Nobody is available to chat right now.", leave: "Leave a message",
          callback: "Call me back", email: "Your e-mail address", name: "Your name", message: "Your message",
          phone: "Your phone number", topic: "What about?", submit: "Send", cancel: "Cancel",
          left: "Thank you! We will e-mail our answer to ", called: "Thank you! " }
  }[lang];
  var key = "balie:" + shop + ":";
  var store = {
    get: function (name, fallback) {
      try { var v = localStorage.getItem(key + name); return v === null ? fallback : JSON.parse(v); }
      catch (e) { return fallback; }
    },
    set: function (name, value) { try { localStorage.setItem(key + name, JSON.stringify(value)); } catch (e) { /* private mode */ } }
  };
  var state = {
    socket: null, open: sessionStorage.getItem(key + "open") === "1", retry: 0, connected: false,
    messages: {}, order: [], agentSeen: 0, unread: 0, lastTyping: 0, typingTimer: null, welcomed: false
  };

  var link = document.createElement("link");
  link.rel = "stylesheet"; link.href = origin + "/widget.css";
  document.head.appendChild(link);

  function el(tag, cls, attrs) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    for (var name in (attrs || {})) { node.setAttribute(name, attrs[name]); }
    return node;
  }
  var root = el("div", "balie-w", { "data-balie-widget": "" });
  var button = el("button", "balie-w__button", { type: "button", "aria-label": T.open, "aria-expanded": "false",
                                                   "aria-controls": "balie-w-panel" });
  button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" width="26" height="26"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  var badge = el("span", "balie-w__badge", { hidden: "" });
  button.appendChild(badge);
  var panel = el("section", "balie-w__panel", { id: "balie-w-panel", role: "dialog", "aria-label": T.title, hidden: "" });
  var header = el("header", "balie-w__header");
  var title = el("h2", "balie-w__title"); title.textContent = T.title;
  var closer = el("button", "balie-w__close", { type: "button", "aria-label": T.close }); closer.textContent = "×";
  header.appendChild(title); header.appendChild(closer);
  var status = el("p", "balie-w__status", { role: "status", hidden: "" });
  var log = el("ol", "balie-w__log", { role: "log", "aria-live": "polite", "data-testid": "widget-log" });
  var intro = el("li", "balie-w__intro"); intro.textContent = T.welcome; log.appendChild(intro);
  var typing = el("p", "balie-w__typing", { hidden: "", "aria-live": "polite" });
  var form = el("form", "balie-w__form");
  var input = el("textarea", "balie-w__input", { rows: "2", maxlength: "5000", placeholder: T.placeholder,
                                                  "aria-label": T.placeholder, "data-testid": "widget-input" });
  var file = el("input", "balie-w__file", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf",
                                             "aria-label": T.attach, id: "balie-w-file" });
  var attach = el("label", "balie-w__attach", { for: "balie-w-file", title: T.attach }); attach.textContent = "📎";
  var send = el("button", "balie-w__send", { type: "submit", "data-testid": "widget-send" }); send.textContent = T.send;
  form.appendChild(input); form.appendChild(attach); form.appendChild(file); form.appendChild(send);
  // --- reachability, leave a message, call me back -------------------------------------
  var offer = el("div", "balie-w__offer", { "data-testid": "widget-offer" });
  var expected = el("p", "balie-w__expected", { "data-testid": "widget-expected" });
  var closedNote = el("p", "balie-w__closed", { hidden: "" }); closedNote.textContent = T.closed;
  var choices = el("div", "balie-w__choices", { hidden: "" });
  var leaveButton = el("button", "balie-w__choice", { type: "button", "data-testid": "widget-leave" }); leaveButton.textContent = T.leave;
  var callButton = el("button", "balie-w__choice", { type: "button", "data-testid": "widget-callback" }); callButton.textContent = T.callback;
  choices.appendChild(leaveButton); choices.appendChild(callButton);
  offer.appendChild(expected); offer.appendChild(closedNote); offer.appendChild(choices);

  function field(formNode, name, label, type, required) {
    var wrap = el("label", "balie-w__field");
    var caption = el("span"); caption.textContent = label;
    var control = type === "textarea" ? el("textarea", "balie-w__input", { name: name, rows: "3", maxlength: "5000" })
                                      : el("input", "balie-w__input", { name: name, type: type, maxlength: "320" });
    if (required) { control.required = true; }
    wrap.appendChild(caption); wrap.appendChild(control); formNode.appendChild(wrap);
    return control;
  }
  function sideForm(testid, fields) {
    var node = el("form", "balie-w__side", { hidden: "", "data-testid": testid });
    fields.forEach(function (f) { field(node, f[0], f[1], f[2], f[3]); });
    var row = el("div", "balie-w__row");
    var ok = el("button", "balie-w__send", { type: "submit" }); ok.textContent = T.submit;
    var cancel = el("button", "balie-w__choice", { type: "button" }); cancel.textContent = T.cancel;
    cancel.addEventListener("click", function () { node.hidden = true; });
    row.appendChild(ok); row.appendChild(cancel); node.appendChild(row);
    return node;
  }
  var leaveForm = sideForm("widget-leave-form", [["email", T.email, "email", true], ["name", T.name, "text", false],
                                                  ["text", T.message, "textarea", true]]);
  var callForm = sideForm("widget-callback-form", [["phone", T.phone, "tel", true], ["name", T.name, "text", false],
                                                    ["topic", T.topic, "text", false]]);
  var confirmation = el("p", "balie-w__confirm", { hidden: "", role: "status", "data-testid": "widget-confirmation" });
  offer.appendChild(leaveForm); offer.appendChild(callForm); offer.appendChild(confirmation);

  function values(formNode) {
    var out = {};
    Array.prototype.forEach.call(formNode.elements, function (c) { if (c.name) { out[c.name] = c.value.trim(); } });
    return out;
  }
  function postPublic(path, body) {
    var headers = { "Content-Type": "application/json" };
    var token = store.get("token", null);
    if (token) { headers["X-Balie-Visitor"] = token; }
    return fetch(origin + "/api/v1/public/shops/" + encodeURIComponent(shop) + path, {
      method: "POST", headers: headers, body: JSON.stringify(body)
    }).then(function (response) { return response.json().then(function (b) { return { ok: response.ok, body: b }; }); });
  }
  function answered(formNode, text) {
    formNode.hidden = true; confirmation.textContent = text; confirmation.hidden = false;
  }
  function openForm(formNode) {
    leaveForm.hidden = formNode !== leaveForm; callForm.hidden = formNode !== callForm; confirmation.hidden = true;
    var first = formNode.querySelector("input, textarea"); if (first) { first.focus(); }
  }
  leaveButton.addEventListener("click", function () { openForm(leaveForm); });
  callButton.addEventListener("click", function () { openForm(callForm); });
  leaveForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var v = values(leaveForm);
    postPublic("/messages", { email: v.email, name: v.name, text: v.text, client_id: newId(), language: lang })
      .then(function (r) { if (r.ok) { answered(leaveForm, T.left + r.body.email); } else { status.textContent = T.failed + r.body.detail; status.hidden = false; } })
      .catch(function () { status.textContent = T.offline; status.hidden = false; });
  });
  callForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var v = values(callForm);
    var body = { phone: v.phone, name: v.name, topic: v.topic, language: lang };
    // Asked from an accepted call-back invitation: the invitation counts the call-back it brought.
    var invited = Number(sessionStorage.getItem(key + "callbackInvitation") || 0);
    if (invited) { body.invitation = invited; }
    postPublic("/callbacks", body)
      .then(function (r) { if (r.ok) { sessionStorage.removeItem(key + "callbackInvitation"); answered(callForm, T.called + (r.body.promise[lang] || "")); } else { status.textContent = T.failed + r.body.detail; status.hidden = false; } })
      .catch(function () { status.textContent = T.offline; status.hidden = false; });
  });

  function loadReachability() {
    fetch(origin + "/api/v1/public/shops/" + encodeURIComponent(shop) + "/reachability")
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (reach) {
        if (!reach) { return; }
        var chat = (reach.channels || []).filter(function (c) { return c.channel === "chat"; })[0];
        var canChat = !!(chat && chat.available);
        expected.textContent = chat && chat.expected_reply_text ? (chat.expected_reply_text[lang] || "") : "";
        closedNote.hidden = canChat;
        choices.hidden = canChat && !(reach.callback && reach.callback.available);
        leaveButton.hidden = canChat || !reach.leave_message;
        callButton.hidden = !(reach.callback && reach.callback.available);
      }).catch(function () { /* the chat itself still works */ });
  }

  panel.appendChild(header); panel.appendChild(status); panel.appendChild(offer); panel.appendChild(log); panel.appendChild(typing); panel.appendChild(form);
  root.appendChild(panel); root.appendChild(button);

  function newId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function render(message, pending) {
    var id = message.client_id || ("m" + message.id);
    var item = state.messages[id];
    if (!item) {
      item = el("li", "balie-w__msg balie-w__msg--" + (message.direction === "in" ? "me" : "shop"), { "data-testid": "widget-message" });
      var who = el("span", "balie-w__who");
      var body = el("p", "balie-w__text");
      var meta = el("span", "balie-w__meta");
      item.appendChild(who); item.appendChild(body); item.appendChild(meta);
      state.messages[id] = item; state.order.push(id);
      log.appendChild(item);
    }
    item.children[0].textContent = message.direction === "in" ? T.you : (message.author || "");
    item.children[1].textContent = message.text || "";
    (message.files || []).forEach(function (f) {
      if (item.querySelector("[data-file='" + f.id + "']")) { return; }
      var a = el("a", "balie-w__filelink", { href: origin + f.url, target: "_blank", rel: "noopener", "data-file": String(f.id) });
      if (f.type.indexOf("image/") === 0) {
        var img = el("img", "balie-w__img", { src: origin + f.url, alt: f.name }); a.appendChild(img);
      } else { a.textContent = f.name; }
      item.children[1].appendChild(a);
    });
    item.dataset.messageId = message.id ? String(message.id) : "";
    item.dataset.state = pending ? "sending" : "sent";
    markState(item);
    log.scrollTop = log.scrollHeight;
  }

  function markState(item) {
    if (!item.classList.contains("balie-w__msg--me")) { return; }
    var id = Number(item.dataset.messageId || 0);
    var label = item.dataset.state === "sending" ? T.sending : (id && id <= state.agentSeen ? T.seen : T.sent);
    item.children[2].textContent = label;
    item.dataset.status = label;
  }

  function outbox() { return store.get("outbox", []); }
  function queue(entry) { var list = outbox(); list.push(entry); store.set("outbox", list); }
  function acked(clientId) { store.set("outbox", outbox().filter(function (e) { return e.client_id !== clientId; })); }

  function transmit(entry) {
    if (state.socket && state.connected) {
      state.socket.send(JSON.stringify(invitationOf({ type: "message", client_id: entry.client_id, text: entry.text })));
    }
  }

  function connect() {
    if (state.socket) { return; }
    var url = origin.replace(/^http/, "ws") + "/widget/ws?shop=" + encodeURIComponent(shop);
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = function () {
      var customer = null;
      if (script.getAttribute("data-customer-signature")) {
        customer = { id: script.getAttribute("data-customer-id") || "", email: script.getAttribute("data-customer-email") || "",
                     expires: Number(script.getAttribute("data-customer-expires") || 0),
                     signature: script.getAttribute("data-customer-signature") };
      }
      var newVisit = !sessionStorage.getItem(key + "visit");
      sessionStorage.setItem(key + "visit", "1");
      socket.send(JSON.stringify({ type: "hello", token: store.get("token", null), customer: customer,
                                   language: lang, new_visit: newVisit }));
    };
    socket.onmessage = function (event) {
      var frame; try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "welcome") {
        state.connected = true; state.retry = 0; status.hidden = true;
        var previous = store.get("token", null);
        if (previous && previous !== frame.token) {
          // Another visitor than before (the shop's customer changed): nothing old is shown.
          // On a first visit there is nothing old, and what was typed before this welcome is kept.
          state.messages = {}; state.order = []; log.replaceChildren(intro); store.set("outbox", []);
        }
        store.set("token", frame.token);
        state.agentSeen = frame.agent_seen || 0;
        var seenUpTo = frame.seen || 0;
        state.unread = 0;
        frame.messages.forEach(function (m) { render(m, false); if (m.direction === "out" && m.id > seenUpTo) { state.unread++; } });
        outbox().forEach(function (entry) { render({ client_id: entry.client_id, direction: "in", text: entry.text }, true); transmit(entry); });
        state.welcomed = true; updateBadge(); reportSeen(); sendPages();
      } else if (frame.type === "ack") {
        acked(frame.client_id); render(frame.message, false);
      } else if (frame.type === "message") {
        render(frame.message, false);
        if (frame.message.direction === "out") { typing.hidden = true; if (!isVisible()) { state.unread++; updateBadge(); } else { reportSeen(); } }
      } else if (frame.type === "seen") {
        state.agentSeen = Math.max(state.agentSeen, frame.message_id || 0);
        Array.prototype.forEach.call(log.querySelectorAll(".balie-w__msg--me"), markState);
      } else if (frame.type === "typing") {
        typing.textContent = (frame.author || "") + " " + T.typing; typing.hidden = false;
        clearTimeout(state.typingTimer); state.typingTimer = setTimeout(function () { typing.hidden = true; }, 6000);
      } else if (frame.type === "invite") {
        showInvite(frame);
      } else if (frame.type === "error") {
        status.textContent = T.failed + frame.detail; status.hidden = false;
      }
    };
    socket.onclose = function () {
      state.socket = null; state.connected = false;
      if (state.welcomed || state.open) { status.textContent = T.offline; status.hidden = !state.open; }
      var wait = Math.min(30000, 500 * Math.pow(2, state.retry++)) * (0.7 + Math.random() * 0.6);
      setTimeout(connect, wait);
    };
  }

  function isVisible() { return state.open && document.visibilityState === "visible"; }
  function updateBadge() {
    badge.hidden = state.unread === 0;
    badge.textContent = String(state.unread);
    button.setAttribute("aria-label", T.open + (state.unread ? " (" + state.unread + " " + T.unread + ")" : ""));
  }
  function reportSeen() {
    if (!isVisible() || !state.connected) { return; }
    var last = 0;
    state.order.forEach(function (id) { var item = state.messages[id]; if (item.classList.contains("balie-w__msg--shop")) { last = Math.max(last, Number(item.dataset.messageId || 0)); } });
    if (last) { state.socket.send(JSON.stringify({ type: "seen", message_id: last })); }
    state.unread = 0; updateBadge();
  }
  function setOpen(open, restoring) {
    state.open = open;
    sessionStorage.setItem(key + "open", open ? "1" : "0");
    panel.hidden = !open; button.setAttribute("aria-expanded", open ? "true" : "false");
    // Reopened by itself on the next page: the page keeps its focus (a phone keeps its keyboard down).
    if (open) { connect(); loadReachability(); if (!restoring) { input.focus(); } reportSeen(); } else { button.focus(); }
  }

  button.addEventListener("click", function () { setOpen(!state.open); });
  closer.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { setOpen(false); } });
  document.addEventListener("visibilitychange", reportSeen);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (state.connected && now - state.lastTyping > 3000) { state.lastTyping = now; state.socket.send(JSON.stringify({ type: "typing" })); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    var entry = { client_id: newId(), text: text };
    queue(entry);  // kept until acknowledged: sent again after a lost connection, stored once
    render({ client_id: entry.client_id, direction: "in", text: text }, true);
    input.value = "";
    transmit(entry);
  });
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) { return; }
    var data = new FormData();
    var clientId = newId();
    data.append("file", chosen); data.append("client_id", clientId);
    render({ client_id: clientId, direction: "in", text: chosen.name }, true);
    fetch(origin + "/widget/files?shop=" + encodeURIComponent(shop), {
      method: "POST", body: data, headers: { "X-Balie-Visitor": store.get("token", "") }
    }).then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (result) {
        if (result.ok) { render(result.body.message, false); }
        else { status.textContent = T.failed + result.body.detail; status.hidden = false; }
      }).catch(function () { status.textContent = T.offline; status.hidden = false; });
    file.value = "";
  });

  // --- proactive invitations (docs/widget.md): page events in, at most one invitation out ---
  // The server decides; this only reports pages, asks again while a checkout page stays quiet,
  // and shows what the server sends.
  var IT = { nl: { yes: "Ja, graag", no: "Nee, bedankt", label: "Uitnodiging van de winkel" },
             en: { yes: "Yes, please", no: "No, thanks", label: "Invitation from the shop" } }[lang];
  var pages = { queue: [], kind: "", idleTimer: null, idleAsks: 0, invite: null, enabled: false };
  var IDLE_MS = 15000, IDLE_ASKS = 40;  // ask for ten minutes at most
  function pageFromTag() {
    var page = { kind: script.getAttribute("data-page") || "page_view" };
    if (script.getAttribute("data-product")) { page.product = script.getAttribute("data-product"); }
    if (script.getAttribute("data-cart-value")) { page.cart_value = Number(script.getAttribute("data-cart-value")); }
    if (script.getAttribute("data-checkout-step")) { page.checkout_step = script.getAttribute("data-checkout-step"); }
    return page;
  }
  function reportPage(page) {
    var frame = { type: "page", kind: String(page.kind || "page_view"), url: String(page.url || location.href).slice(0, 2000) };
    if (page.product != null) { frame.product = String(page.product).slice(0, 200); }
    if (page.cart_value != null && isFinite(Number(page.cart_value))) { frame.cart_value = Number(page.cart_value); }
    if (page.checkout_step != null) { frame.checkout_step = String(page.checkout_step).slice(0, 64); }
    pages.queue.push(frame); sendPages();
  }
  function sendPages() {
    if (!state.socket) { connect(); return; }  // sent after the welcome
    if (!state.connected) { return; }
    while (pages.queue.length) {
      var frame = pages.queue.shift();
      pages.kind = frame.kind; pages.idleAsks = 0;
      state.socket.send(JSON.stringify(frame));
    }
    clearTimeout(pages.idleTimer);
    if (pages.kind === "checkout") { pages.idleTimer = setTimeout(askIdle, IDLE_MS); }
  }
  function askIdle() {
    if (pages.invite || pages.kind !== "checkout" || pages.idleAsks++ >= IDLE_ASKS) { return; }
    if (state.connected) { state.socket.send(JSON.stringify({ type: "idle" })); }
    pages.idleTimer = setTimeout(askIdle, IDLE_MS);
  }
  function showInvite(frame) {
    if (pages.invite) { return; }
    var bubble = el("div", "balie-w__invite", { role: "dialog", "aria-label": IT.label, "aria-live": "polite",
                                                 "data-testid": "widget-invite", "data-action": frame.action });
    var text = el("p", "balie-w__invite-text"); text.textContent = frame.text || "";
    var yes = el("button", "balie-w__choice", { type: "button", "data-testid": "widget-invite-yes" }); yes.textContent = IT.yes;
    var no = el("button", "balie-w__choice", { type: "button", "data-testid": "widget-invite-no" }); no.textContent = IT.no;
    bubble.appendChild(text); bubble.appendChild(yes); bubble.appendChild(no);
    pages.invite = bubble;
    function answer(accepted) {
      if (state.connected) { state.socket.send(JSON.stringify({ type: "invitation", id: frame.id, accepted: accepted })); }
      bubble.remove(); button.focus();
      if (!accepted) { return; }
      if (frame.action === "callback") {
        sessionStorage.setItem(key + "callbackInvitation", String(frame.id));
        if (window.BalieWidget && window.BalieWidget.openCallback) { window.BalieWidget.openCallback(); }
        return;
      }
      // The shop's first message, shown here; stored with the visitor's first answer.
      sessionStorage.setItem(key + "invitation", String(frame.id));
      render({ client_id: "invite-" + frame.id, direction: "out", text: frame.text || "" }, false);
      setOpen(true);
    }
    yes.addEventListener("click", function () { answer(true); });
    no.addEventListener("click", function () { answer(false); });
    bubble.addEventListener("keydown", function (event) { if (event.key === "Escape") { answer(false); } });
    root.insertBefore(bubble, button);
  }
  function invitationOf(message) {
    // The first message after accepting names the invitation, once.
    var id = Number(sessionStorage.getItem(key + "invitation") || 0);
    if (id) { message.invitation = id; sessionStorage.removeItem(key + "invitation"); }
    return message;
  }

  window.BalieWidget = window.BalieWidget || {};
  window.BalieWidget.open = function () { setOpen(true); };
  window.BalieWidget.openCallback = function () { setOpen(true); openForm(callForm); };
  window.BalieWidget.page = function (page) { if (pages.enabled) { reportPage(page || {}); } };
  // Page events serve only invitations: a shop without rules gets no socket per page view.
  fetch(origin + "/api/v1/public/shops/" + encodeURIComponent(shop) + "/reachability")
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (reach) { if (reach && reach.invitations) { pages.enabled = true; reportPage(pageFromTag()); } })
    .catch(function () { /* no invitations then */ });

  function mount() {
    document.body.appendChild(root);
    if (state.open) { setOpen(true, true); } else if (store.get("token", null)) { connect(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
