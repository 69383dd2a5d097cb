/* The call-back queue: refreshed when a call-back changes (live events) and every minute (so
   a promise that breaks while the page is open is marked). Works without this file too. */
(function () {
  "use strict";

  var main = document.querySelector("main[data-queue-url]");
  var region = document.getElementById("callbacks-region");
  if (!main || !region) { return; }
  var url = main.getAttribute("data-queue-url");
  var stale = false;

  // Never pull a form away from an agent who is typing a note in it; catch up afterwards.
  function busy() {
    var active = document.activeElement;
    return Boolean(active && region.contains(active) && active.tagName === "INPUT" && active.value);
  }

  function refresh() {
    if (busy()) { stale = true; return; }
    stale = false;
    fetch(url, { credentials: "same-origin", headers: { "X-Balie-Async": "1" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var focusedId = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : null;
        region.replaceChildren.apply(region, Array.from(doc.body.childNodes));
        if (focusedId && document.getElementById(focusedId)) { document.getElementById(focusedId).focus(); }
      })
      .catch(function () { /* the next event or the minute tick tries again */ });
  }

  region.addEventListener("focusout", function () { if (stale) { setTimeout(refresh, 0); } });
  setInterval(refresh, 60000);
  if (window.EventSource) {
    var source = new EventSource("/ui/events");
    ["callback.created", "callback.updated"].forEach(function (type) {
      source.addEventListener(type, refresh);
    });
  }
}());
