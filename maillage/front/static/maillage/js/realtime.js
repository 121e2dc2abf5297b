/*
 * Maillage real time: one WebSocket per page at /ws/ (maillage.realtime).
 *
 * Frames are {"type": ..., "seq": n, "data": {...}}. The client says hello
 * with the last seq it has (the page was rendered up to data-last-seq on the
 * bell), answers the server's pings, drops any event it already has, and
 * reconnects after a close with exponential backoff and jitter, resuming
 * from its last seq. Each event is dispatched on the document as
 * "maillage:realtime"; the bell and the live inbox listen to it.
 * No inline script, no eval, no innerHTML: text goes in with textContent.
 */
(function () {
  "use strict";

  var bell = document.querySelector("[data-realtime-bell]");
  if (!bell || !("WebSocket" in window)) {
    return;
  }
  var lastSeq = parseInt(bell.getAttribute("data-last-seq") || "0", 10) || 0;
  var BASE_DELAY = 500;
  var MAX_DELAY = 15000;
  var attempts = 0;
  var socket = null;
  var retry = null;
  var watchdog = null;
  var silenceLimit = 90000;
  var stopped = false;

  function endpoint() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + "/ws/";
  }

  // Exponential backoff with "equal jitter": half the ceiling, plus a random half.
  function nextDelay() {
    var ceiling = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, attempts));
    attempts += 1;
    return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    }
  }

  // A server that went quiet (network lost without a close) is given up on.
  function heard() {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(function () {
      if (socket) {
        socket.close();
      }
    }, silenceLimit);
  }

  function schedule() {
    window.clearTimeout(retry);
    if (!stopped) {
      retry = window.setTimeout(connect, nextDelay());
    }
  }

  function connect() {
    window.clearTimeout(retry);
    var current;
    try {
      current = new WebSocket(endpoint());
    } catch (error) {
      schedule();
      return;
    }
    socket = current;
    bell.setAttribute("data-realtime-state", "connecting");
    current.addEventListener("open", function () {
      bell.setAttribute("data-realtime-state", "open");
      heard();
      send({ type: "hello", seq: 0, data: { last_seq: lastSeq } });
    });
    current.addEventListener("message", function (message) {
      heard();
      receive(message.data);
    });
    current.addEventListener("close", function (closed) {
      if (socket === current) {
        socket = null;
      }
      window.clearTimeout(watchdog);
      bell.setAttribute("data-realtime-state", "closed");
      // 4401: the sign-in ended (signed out, expired); the next page load will tell.
      if (closed.code === 4401) {
        stopped = true;
        return;
      }
      schedule();
    });
  }

  function receive(text) {
    var frame;
    try {
      frame = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (!frame || typeof frame.type !== "string") {
      return;
    }
    var data = frame.data && typeof frame.data === "object" ? frame.data : {};
    if (frame.type === "ping") {
      send({ type: "pong", seq: 0, data: {} });
    } else if (frame.type === "welcome") {
      attempts = 0;
      if (typeof data.heartbeat === "number" && data.heartbeat > 0) {
        silenceLimit = data.heartbeat * 3000;
      }
      if (typeof data.last_seq === "number" && data.last_seq < lastSeq) {
        lastSeq = data.last_seq;
      }
      if (data.missed) {
        document.dispatchEvent(new CustomEvent("maillage:realtime-missed"));
      }
    } else if (typeof frame.seq === "number" && frame.seq > 0) {
      if (frame.seq <= lastSeq) {
        return; // already shown
      }
      lastSeq = frame.seq;
      document.dispatchEvent(new CustomEvent("maillage:realtime", { detail: frame }));
    }
  }

  // --- The bell ------------------------------------------------------------------
  var count = bell.querySelector("[data-bell-count]");
  var status = document.querySelector("[data-realtime-status]");
  document.addEventListener("maillage:realtime", function () {
    if (count) {
      count.textContent = String((parseInt(count.textContent || "0", 10) || 0) + 1);
      count.classList.remove("bell-count-zero");
    }
    if (status) {
      status.textContent = bell.getAttribute("data-label-new") || "";
    }
  });

  // --- The live inbox ------------------------------------------------------------
  var inbox = document.querySelector("[data-live-inbox]");

  function tag(text, extra) {
    var span = document.createElement("span");
    span.className = extra ? "tag " + extra : "tag";
    span.textContent = text;
    return span;
  }

  function inboxRow(thread, row) {
    var item = document.createElement("li");
    item.className = "result";
    item.setAttribute("data-thread", thread);
    var link = document.createElement("a");
    link.setAttribute("href", row.url);
    if (row.unread) {
      var strong = document.createElement("strong");
      strong.textContent = row.subject;
      link.appendChild(strong);
    } else {
      link.textContent = row.subject;
    }
    var about = document.createElement("span");
    var tags = Array.isArray(row.tags) ? row.tags : [];
    for (var i = 0; i < tags.length; i += 1) {
      if (tags[i] && typeof tags[i].text === "string") {
        about.appendChild(tag(tags[i].text, tags[i].warn ? "tag-warn" : ""));
      }
    }
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = row.others + " · " + row.at;
    about.appendChild(meta);
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(about);
    return item;
  }

  if (inbox) {
    document.addEventListener("maillage:realtime", function (event) {
      var frame = event.detail;
      var data = frame.data || {};
      var row = data.row;
      if (frame.type !== "message.new" || typeof data.thread !== "string" || !row) {
        return;
      }
      if (typeof row.url !== "string" || row.url.indexOf("/messagerie/") !== 0) {
        return;
      }
      // One row per conversation: a newer message moves it to the top.
      var rows = inbox.querySelectorAll("li[data-thread]");
      for (var i = 0; i < rows.length; i += 1) {
        if (rows[i].getAttribute("data-thread") === data.thread) {
          rows[i].remove();
        }
      }
      var empty = inbox.querySelector("li[data-empty]");
      if (empty) {
        empty.remove();
      }
      inbox.insertBefore(inboxRow(data.thread, row), inbox.firstChild);
    });
    // Events were pruned while away: the page cannot be patched, it is reloaded.
    document.addEventListener("maillage:realtime-missed", function () {
      window.location.reload();
    });
  }

  window.addEventListener("online", function () {
    if (!socket && !stopped) {
      attempts = 0;
      connect();
    }
  });

  connect();
})();
