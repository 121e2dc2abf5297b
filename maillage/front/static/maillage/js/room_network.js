/*
 * Maillage room network: what the video room does about a village line.
 *
 * room.js (maillage.teleconsult) owns the call: pages, signalling, tracks.
 * For each RTCPeerConnection it calls
 *
 *   var net = MaillageNetwork.attach(pc, {
 *     videoMaxKbps: 250,            // the cap on a good line (150-300); settings.MAILLAGE_VIDEO_MAX_KBPS
 *     autoAudioOnly: true,          // a bad line switches to audio only by itself (else: only advised)
 *     restartIce: function () {},   // how this room renegotiates an ICE restart (default pc.restartIce(),
 *                                   // which fires "negotiationneeded" for the room's negotiation)
 *     iceUrl: "/visio-reseau/<act>/ice.json", // fresh TURN credentials before a restart, when old
 *     onQuality: function (q) {},   // each second: q.level good|fair|poor|lost, q.rttMs, q.lossPct,
 *                                   // q.inKbps, q.outKbps, q.availableKbps, q.path direct|relay,
 *                                   // q.audioOnly, q.changed (level or audio-only changed: tell the server;
 *                                   // return false when not sent, and the next one says changed again)
 *     onIncident: function (kind, detail) {}, // drop | reconnection | audio_only | video_back | failure;
 *                                   // detail.at: when it happened. Return false when it could not be
 *                                   // sent (socket closed): it is offered again, in order, each second.
 *     onAudioOnly: function (on, origin) {},  // origin auto|local|remote: tell the peers unless remote
 *     onAdvice: function (advice) {}          // "audio_only" (bad line, autoAudioOnly false) or "video_back"
 *   });
 *   net.setAudioOnly(true, "local");  // either side, at any time; "remote" when a peer said so
 *   net.restartIce();                 // e.g. when the signalling socket came back
 *   net.detach();
 *
 * What it does:
 * - caps the video sender (RTCRtpSender.setParameters: maxBitrate, then a
 *   lower resolution and frame rate on a fair line) so that a 256 kbit/s line
 *   carries the call; audio (Opus) is capped to tens of kbit/s and goes first;
 * - measures the line from getStats each second (round trip, loss both ways,
 *   bitrates, the estimate of the bandwidth) and reports it;
 * - on a poor line, goes to audio only (the video senders stop; the peers are
 *   told through onAudioOnly and stop theirs);
 * - when ICE says the line dropped, records the drop, restarts ICE (again on
 *   "failed", on the browser's "online" and every few seconds while down), and
 *   records the reconnection with how long it lasted.
 * No DOM, no eval: the room shows what it is told.
 */
(function () {
  "use strict";

  var RANK = { good: 0, fair: 1, poor: 2, lost: 3 };
  // On a fair line: the cap, and the picture it keeps (smaller and slower first).
  var FAIR_KBPS = 150;
  var GOOD_HEIGHT = 240;
  var FAIR_HEIGHT = 180;
  var GOOD_FPS = 15;
  var FAIR_FPS = 10;
  var AUDIO_KBPS = 32;
  var AUDIO_ONLY_KBPS = 24;

  function classify(m) {
    // m: lossPct (worst direction over the window), rttMs, availableKbps (may be null).
    if (m.lossPct >= 4 || (m.availableKbps !== null && m.availableKbps < 100) || m.rttMs >= 1000) {
      return "poor";
    }
    if (m.lossPct >= 1.5 || (m.availableKbps !== null && m.availableKbps < 220) || m.rttMs >= 400) {
      return "fair";
    }
    return "good";
  }

  function attach(pc, options) {
    var o = options || {};
    var interval = o.intervalMs || 1000;
    var videoMaxKbps = Math.max(50, Math.min(o.videoMaxKbps || 250, 1500));
    var autoAudioOnly = o.autoAudioOnly !== false;
    var poorSamples = o.poorSamples || 3; // seconds of a poor line before audio only
    var betterSamples = 5; // a level goes up only after this many better samples
    var restartAfterMs = o.restartAfterMs === undefined ? 2000 : o.restartAfterMs;
    var restartEveryMs = o.restartEveryMs || 6000;
    var failAfterMs = o.failAfterMs || 30000;
    var credentialsTtl = (o.credentialsTtl || 3 * 3600) * 1000;
    var credentialsAt = Date.now();

    var level = "good";
    var pendingLevel = null;
    var pendingCount = 0;
    var poorCount = 0;
    var goodInAudioOnly = 0;
    var audioOnly = false;
    var audioOnlyOrigin = null;
    // Someone brought the video back by hand: no automatic switch for a while (advice only).
    var respectChoiceUntil = 0;
    var lastReported = null;
    var window3 = []; // the last samples' counters
    var timer = null;
    var restartTimer = null;
    var dropAt = null;
    var restarts = 0;
    var offerSince = null;
    var failed = false;
    var applying = false;
    var detached = false;
    var last = null;
    var incidents = [];
    var undelivered = [];

    // A hook's result: false means "not delivered" (the room's socket was closed).
    function call(name, a, b) {
      var fn = o[name];
      if (typeof fn === "function") {
        try {
          return fn(a, b);
        } catch (error) {
          window.console && window.console.error(error);
        }
      }
      return undefined;
    }

    // An incident keeps the time it happened (detail.at); one the room could not
    // send (its socket down with the line) is sent again, in order, at each tick.
    function incident(kind, detail) {
      var entry = { kind: kind, at: new Date().toISOString(), detail: detail || {} };
      entry.detail.at = entry.at;
      incidents.push(entry);
      undelivered.push(entry);
      deliver();
    }

    function deliver() {
      while (undelivered.length) {
        var entry = undelivered[0];
        if (call("onIncident", entry.kind, entry.detail) === false) {
          return;
        }
        undelivered.shift();
      }
    }

    // --- Caps on the senders -----------------------------------------------------

    function wantedVideo(sender) {
      var settings = sender.track && sender.track.getSettings ? sender.track.getSettings() : {};
      var height = settings.height || 480;
      var fair = RANK[level] >= RANK.fair;
      var target = fair ? FAIR_HEIGHT : GOOD_HEIGHT;
      return {
        active: !audioOnly,
        maxBitrate: 1000 * (fair ? Math.min(FAIR_KBPS, videoMaxKbps) : videoMaxKbps),
        maxFramerate: fair ? FAIR_FPS : GOOD_FPS,
        scaleResolutionDownBy: Math.max(1, Math.round((height / target) * 100) / 100),
        priority: "low",
        networkPriority: "low"
      };
    }

    function wantedAudio() {
      return {
        active: true,
        maxBitrate: 1000 * (audioOnly ? AUDIO_ONLY_KBPS : AUDIO_KBPS),
        priority: "high",
        networkPriority: "high"
      };
    }

    function differs(encoding, wanted) {
      for (var key in wanted) {
        if (Object.prototype.hasOwnProperty.call(wanted, key) && encoding[key] !== wanted[key]) {
          return true;
        }
      }
      return false;
    }

    function applySender(sender) {
      if (!sender.track || !sender.getParameters) {
        return Promise.resolve();
      }
      var params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) {
        return Promise.resolve(); // not negotiated yet: next time
      }
      var wanted = sender.track.kind === "video" ? wantedVideo(sender) : wantedAudio();
      var change = false;
      for (var i = 0; i < params.encodings.length; i += 1) {
        if (differs(params.encodings[i], wanted)) {
          change = true;
          for (var key in wanted) {
            if (Object.prototype.hasOwnProperty.call(wanted, key)) {
              params.encodings[i][key] = wanted[key];
            }
          }
        }
      }
      if (sender.track.kind === "video" && params.degradationPreference !== "balanced") {
        params.degradationPreference = "balanced";
        change = true;
      }
      return change ? sender.setParameters(params) : Promise.resolve();
    }

    // One setParameters at a time (each needs the parameters the last one left).
    function applySenders() {
      if (applying || detached || pc.signalingState === "closed") {
        return Promise.resolve();
      }
      applying = true;
      var senders = pc.getSenders();
      var chain = Promise.resolve();
      senders.forEach(function (sender) {
        chain = chain.then(function () {
          return applySender(sender).catch(function () {});
        });
      });
      return chain.then(function () {
        applying = false;
      });
    }

    // --- Audio only --------------------------------------------------------------

    function setAudioOnly(on, origin) {
      on = !!on;
      origin = origin || "local";
      if (on === audioOnly) {
        return Promise.resolve();
      }
      audioOnly = on;
      audioOnlyOrigin = on ? origin : null;
      goodInAudioOnly = 0;
      if (!on && origin !== "auto") {
        respectChoiceUntil = Date.now() + 60000;
      }
      if (origin !== "remote") {
        incident(on ? "audio_only" : "video_back", {
          origin: origin,
          level: level,
          loss_pct: last ? last.lossPct : null,
          available_kbps: last ? last.availableKbps : null,
          rtt_ms: last ? last.rttMs : null
        });
      }
      call("onAudioOnly", on, origin);
      return applySenders();
    }

    // --- Measuring -----------------------------------------------------------------

    function counters(report) {
      var c = {
        at: Date.now(),
        inBytes: 0,
        outBytes: 0,
        inLost: 0,
        inReceived: 0,
        outSent: 0,
        outLost: 0,
        rttMs: null,
        availableKbps: null,
        path: null
      };
      var pairId = null;
      report.forEach(function (r) {
        if (r.type === "inbound-rtp") {
          c.inBytes += r.bytesReceived || 0;
          c.inLost += Math.max(0, r.packetsLost || 0);
          c.inReceived += r.packetsReceived || 0;
        } else if (r.type === "outbound-rtp") {
          c.outBytes += r.bytesSent || 0;
          c.outSent += r.packetsSent || 0;
        } else if (r.type === "remote-inbound-rtp") {
          c.outLost += Math.max(0, r.packetsLost || 0);
          if (typeof r.roundTripTime === "number") {
            c.rttMs = Math.max(c.rttMs || 0, r.roundTripTime * 1000);
          }
        } else if (r.type === "transport" && r.selectedCandidatePairId) {
          pairId = r.selectedCandidatePairId;
        }
      });
      var pair = pairId ? report.get(pairId) : null;
      if (pair) {
        if (typeof pair.currentRoundTripTime === "number") {
          c.rttMs = pair.currentRoundTripTime * 1000;
        }
        if (typeof pair.availableOutgoingBitrate === "number") {
          c.availableKbps = pair.availableOutgoingBitrate / 1000;
        }
        var local = report.get(pair.localCandidateId);
        var remote = report.get(pair.remoteCandidateId);
        var relayed =
          (local && local.candidateType === "relay") || (remote && remote.candidateType === "relay");
        c.path = relayed ? "relay" : "direct";
      }
      return c;
    }

    function measure(now) {
      window3.push(now);
      while (window3.length > 4) {
        window3.shift();
      }
      var first = window3[0];
      var prev = window3.length > 1 ? window3[window3.length - 2] : null;
      var span = (now.at - first.at) / 1000;
      var inLost = now.inLost - first.inLost;
      var inGot = now.inReceived - first.inReceived;
      var outLost = now.outLost - first.outLost;
      var outSent = now.outSent - first.outSent;
      var lossIn = inLost + inGot > 0 ? (100 * inLost) / (inLost + inGot) : 0;
      var lossOut = outSent > 0 ? (100 * Math.min(outLost, outSent)) / outSent : 0;
      var step = prev ? (now.at - prev.at) / 1000 : 0;
      return {
        rttMs: now.rttMs === null ? 0 : Math.round(now.rttMs),
        lossPct: Math.round(Math.max(lossIn, lossOut) * 10) / 10,
        inKbps: step > 0 ? Math.round(((now.inBytes - prev.inBytes) * 8) / step / 1000) : 0,
        outKbps: step > 0 ? Math.round(((now.outBytes - prev.outBytes) * 8) / step / 1000) : 0,
        availableKbps: now.availableKbps === null ? null : Math.round(now.availableKbps),
        receiving: span > 0 && inGot > 0,
        path: now.path
      };
    }

    function settle(seen) {
      // Worse at once after two samples, better only after several.
      if (seen === level) {
        pendingLevel = null;
        pendingCount = 0;
        return;
      }
      if (seen !== pendingLevel) {
        pendingLevel = seen;
        pendingCount = 0;
      }
      pendingCount += 1;
      var needed = RANK[seen] > RANK[level] ? 2 : betterSamples;
      if (pendingCount >= needed) {
        level = seen;
        pendingLevel = null;
        pendingCount = 0;
        applySenders();
      }
    }

    function tick() {
      if (detached || pc.connectionState === "closed") {
        return;
      }
      pc.getStats()
        .then(function (report) {
          var m = measure(counters(report));
          var down = dropAt !== null;
          var seen = down ? "lost" : classify(m);
          settle(seen);
          if (!down && level === "lost") {
            level = seen; // back from a drop: measure afresh
          }
          if (level === "poor") {
            poorCount += 1;
          } else {
            poorCount = 0;
          }
          if (level === "poor" && poorCount >= poorSamples && !audioOnly) {
            if (autoAudioOnly && Date.now() >= respectChoiceUntil) {
              setAudioOnly(true, "auto");
            } else if (poorCount === poorSamples) {
              call("onAdvice", "audio_only");
            }
          }
          if (audioOnly && audioOnlyOrigin === "auto" && level === "good") {
            goodInAudioOnly += 1;
            if (goodInAudioOnly === 30) {
              call("onAdvice", "video_back");
            }
          }
          m.level = level;
          m.state = pc.iceConnectionState;
          m.audioOnly = audioOnly;
          var key = level + (audioOnly ? "/audio" : "/video");
          m.changed = key !== lastReported;
          lastReported = key;
          last = m;
          if (call("onQuality", m) === false) {
            lastReported = null; // not delivered: say it again next time
          }
          deliver();
          applySenders();
        })
        .catch(function () {});
    }

    // --- Drops and ICE restarts ------------------------------------------------------

    function refreshCredentials() {
      if (!o.iceUrl || Date.now() - credentialsAt < credentialsTtl / 2 || !window.fetch) {
        return Promise.resolve();
      }
      return window
        .fetch(o.iceUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (fresh) {
          if (fresh && Array.isArray(fresh.iceServers)) {
            var config = pc.getConfiguration();
            config.iceServers = fresh.iceServers;
            pc.setConfiguration(config);
            credentialsAt = Date.now();
          }
        })
        .catch(function () {});
    }

    function restartIce(reason) {
      if (detached || pc.signalingState === "closed") {
        return;
      }
      restarts += 1;
      refreshCredentials().then(function () {
        if (typeof o.restartIce === "function") {
          o.restartIce(reason || "manual");
        } else if (pc.restartIce) {
          pc.restartIce();
        }
      });
    }

    function scheduleRestart(delay) {
      window.clearTimeout(restartTimer);
      restartTimer = window.setTimeout(function () {
        if (dropAt === null || detached) {
          return;
        }
        if (!failed && Date.now() - dropAt >= failAfterMs) {
          failed = true;
          incident("failure", { down_ms: Date.now() - dropAt, ice_restarts: restarts });
        }
        // One restart at a time: while its offer waits for an answer (the dead line
        // holds it), another would only pile up offers to be answered on the return.
        if (pc.signalingState === "stable") {
          offerSince = null;
          restartIce("down");
        } else if (pc.signalingState === "have-local-offer") {
          offerSince = offerSince || Date.now();
          if (Date.now() - offerSince >= 3 * restartEveryMs) {
            // That offer was lost with the socket that carried it: take it back, offer again.
            offerSince = null;
            pc.setLocalDescription({ type: "rollback" })
              .then(function () {
                restartIce("down");
              })
              .catch(function () {});
          }
        }
        scheduleRestart(restartEveryMs);
      }, delay);
    }

    function onIceState() {
      var state = pc.iceConnectionState;
      if (state === "disconnected" || state === "failed") {
        if (dropAt === null) {
          dropAt = Date.now();
          restarts = 0;
          failed = false;
          level = "lost";
          incident("drop", { state: state });
        }
        if (state === "failed") {
          restartIce("failed");
          scheduleRestart(restartEveryMs);
        } else {
          scheduleRestart(restartAfterMs);
        }
      } else if ((state === "connected" || state === "completed") && dropAt !== null) {
        var down = Date.now() - dropAt;
        dropAt = null;
        window.clearTimeout(restartTimer);
        window3 = [];
        level = "fair"; // until measured again
        incident("reconnection", { down_ms: down, ice_restarts: restarts });
        applySenders();
      }
    }

    function onOnline() {
      if (dropAt !== null) {
        restartIce("online");
      }
    }

    pc.addEventListener("iceconnectionstatechange", onIceState);
    pc.addEventListener("signalingstatechange", function () {
      if (pc.signalingState === "stable") {
        applySenders();
      }
    });
    window.addEventListener("online", onOnline);
    timer = window.setInterval(tick, interval);

    return {
      setAudioOnly: setAudioOnly,
      restartIce: function () {
        restartIce("manual");
      },
      applySenders: applySenders,
      quality: function () {
        return last;
      },
      incidents: function () {
        return incidents.slice();
      },
      get audioOnly() {
        return audioOnly;
      },
      detach: function () {
        detached = true;
        window.clearInterval(timer);
        window.clearTimeout(restartTimer);
        pc.removeEventListener("iceconnectionstatechange", onIceState);
        window.removeEventListener("online", onOnline);
      }
    };
  }

  window.MaillageNetwork = { attach: attach, classify: classify };
})();
