/*
 * The network tests' call page (maillage/testing/callpage.py): one peer of a
 * two-party call with fake devices, perfect negotiation over a long-polling
 * relay, and the real room_network.js attached. The test drives it through
 * window.call: start(config), inbound(), state().
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var me = params.get("me");
  var peer = params.get("peer");
  var callId = params.get("call");
  var polite = me === "patient";
  var call = { events: [], incidents: [], quality: null, connectedAt: null, startedAt: null };
  window.call = call;

  function log(what) {
    call.events.push({ at: Date.now(), what: what });
  }

  // A request the dead line holds is given up after a few seconds, and the next one
  // opens a fresh connection: a TCP connection stalled through a long cut would
  // otherwise wait out its retransmission back-off (tens of seconds) after the return.
  function timed(url, init, ms) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () {
      controller.abort();
    }, ms);
    init.signal = controller.signal;
    return window.fetch(url, init).then(
      function (response) {
        window.clearTimeout(timer);
        return response;
      },
      function (error) {
        window.clearTimeout(timer);
        throw error;
      }
    );
  }

  // Messages leave in order, each until it got through.
  var outbox = [];
  var sending = false;
  function flush() {
    if (sending || !outbox.length) {
      return;
    }
    sending = true;
    timed("/signal/" + callId + "/" + peer, { method: "POST", body: outbox[0] }, 3000)
      .then(function (response) {
        if (response.ok) {
          outbox.shift();
        }
      })
      .catch(function () {
        return new Promise(function (resolve) {
          window.setTimeout(resolve, 250);
        });
      })
      .then(function () {
        sending = false;
        flush();
      });
  }
  function send(message) {
    outbox.push(JSON.stringify(message));
    flush();
  }

  call.start = function (config) {
    call.startedAt = Date.now();
    var pc = new RTCPeerConnection({
      iceServers: config.iceServers || [],
      iceTransportPolicy: config.iceTransportPolicy || "all"
    });
    call.pc = pc;
    var makingOffer = false;
    var ignoreOffer = false;

    pc.onnegotiationneeded = function () {
      makingOffer = true;
      pc.setLocalDescription()
        .then(function () {
          log("offer " + (pc.localDescription.sdp.indexOf("a=ice-ufrag") >= 0));
          return send({ description: pc.localDescription.toJSON() });
        })
        .catch(function (error) {
          log("offer failed " + error);
        })
        .then(function () {
          makingOffer = false;
        });
    };
    pc.onicecandidate = function (event) {
      send({ candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = function () {
      log("connection " + pc.connectionState);
      if (pc.connectionState === "connected" && call.connectedAt === null) {
        call.connectedAt = Date.now();
      }
    };
    pc.oniceconnectionstatechange = function () {
      log("ice " + pc.iceConnectionState);
    };
    pc.ontrack = function (event) {
      var video = document.getElementById("remote");
      if (event.streams[0] && video.srcObject !== event.streams[0]) {
        video.srcObject = event.streams[0];
      }
    };

    function receive(message) {
      if (message.description) {
        var description = message.description;
        var collision =
          description.type === "offer" && (makingOffer || pc.signalingState !== "stable");
        ignoreOffer = !polite && collision;
        if (ignoreOffer) {
          return Promise.resolve();
        }
        return pc.setRemoteDescription(description).then(function () {
          if (description.type === "offer") {
            return pc.setLocalDescription().then(function () {
              return send({ description: pc.localDescription.toJSON() });
            });
          }
        });
      }
      if (message.candidate !== undefined) {
        return pc.addIceCandidate(message.candidate || undefined).catch(function (error) {
          if (!ignoreOffer) {
            log("candidate refused " + error);
          }
        });
      }
      if (message.audioOnly !== undefined) {
        return call.net.setAudioOnly(message.audioOnly, "remote");
      }
      return Promise.resolve();
    }

    // Long polling, in order; a failed poll (the line cut) is tried again at once.
    var seen = 0;
    var chain = Promise.resolve();
    function poll() {
      timed("/signal/" + callId + "/" + me + "?after=" + seen, {}, 4000)
        .then(function (response) {
          return response.json();
        })
        .then(function (messages) {
          seen += messages.length;
          messages.forEach(function (text) {
            chain = chain.then(function () {
              return receive(JSON.parse(text));
            }).catch(function (error) {
              log("receive failed " + error);
            });
          });
          poll();
        })
        .catch(function () {
          window.setTimeout(poll, 200);
        });
    }
    poll();

    var extra = config.network || {}; // e.g. restartAfterMs, for a benchmark's variant
    call.net = window.MaillageNetwork.attach(pc, {
      videoMaxKbps: config.videoMaxKbps || 250,
      restartAfterMs: extra.restartAfterMs,
      restartEveryMs: extra.restartEveryMs,
      onQuality: function (q) {
        call.quality = q;
      },
      onIncident: function (kind, detail) {
        call.incidents.push({ at: Date.now(), kind: kind, detail: detail });
      },
      onAudioOnly: function (on, origin) {
        if (origin !== "remote") {
          send({ audioOnly: on });
        }
      }
    });

    return navigator.mediaDevices
      .getUserMedia({ audio: true, video: { width: 640, height: 480 } })
      .then(function (stream) {
        stream.getTracks().forEach(function (track) {
          pc.addTrack(track, stream);
        });
        log("media");
      });
  };

  // What arrives and by which path: the test's own reading of getStats.
  call.inbound = function () {
    if (!call.pc) {
      return Promise.resolve(null);
    }
    return call.pc.getStats().then(function (report) {
      var out = { audio: 0, video: 0, audioSent: 0, videoSent: 0, local: null, remote: null };
      var pairId = null;
      report.forEach(function (r) {
        if (r.type === "inbound-rtp") {
          out[r.kind] += r.bytesReceived || 0;
        } else if (r.type === "outbound-rtp") {
          out[r.kind + "Sent"] += r.bytesSent || 0;
        } else if (r.type === "transport" && r.selectedCandidatePairId) {
          pairId = r.selectedCandidatePairId;
        }
      });
      var pair = pairId ? report.get(pairId) : null;
      if (pair) {
        out.local = report.get(pair.localCandidateId).candidateType;
        out.remote = report.get(pair.remoteCandidateId).candidateType;
        out.pairBytes = pair.bytesReceived;
      }
      out.at = Date.now();
      out.state = call.pc.connectionState;
      out.ice = call.pc.iceConnectionState;
      out.audioOnly = call.net.audioOnly;
      return out;
    });
  };
})();
