/*
 * A tele-expertise request kept up to date: when realtime.js dispatches an
 * "expertise.changed" event for the request on screen, the live part of the
 * page (status, clock, conversation) is fetched again and put in place.
 *
 * The page works without it (a reload shows the same). The fragment is
 * parsed with DOMParser and moved in as nodes: no innerHTML, no eval; it
 * holds no script. When the status changed, the forms below may no longer
 * apply: a notice in the fragment says so and links to a reload, rather
 * than losing what someone is typing.
 */
(function () {
  "use strict";

  var live = document.querySelector("[data-expertise-live]");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var request = live.getAttribute("data-expertise-live");
  var url = live.getAttribute("data-live-url");
  var status = live.getAttribute("data-status");
  var busy = false;
  var again = false;

  function tellReload(node) {
    var notice = node.querySelector("[data-reload-notice]");
    if (notice) {
      notice.hidden = false;
    }
  }

  function put(text) {
    var parsed = new DOMParser().parseFromString(text, "text/html");
    var fresh = parsed.querySelector("[data-expertise-live]");
    if (!fresh || fresh.getAttribute("data-expertise-live") !== request) {
      return;
    }
    var node = document.importNode(fresh, true);
    if (node.getAttribute("data-status") !== status) {
      tellReload(node);
    }
    live.replaceWith(node);
    live = node;
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          // Taken by a colleague, or no longer ours: the reload says which.
          tellReload(live);
          return "";
        }
        return response.text();
      })
      .then(function (text) {
        if (text) {
          put(text);
        }
      })
      .catch(function () {
        // The network is away; realtime.js reconnects and the next event refreshes.
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  document.addEventListener("maillage:realtime", function (event) {
    var frame = event.detail || {};
    var data = frame.data || {};
    if (frame.type === "expertise.changed" && data.request === request) {
      refresh();
    }
  });
  // Events were lost while away: fetch the current state once.
  document.addEventListener("maillage:realtime-missed", refresh);
})();
