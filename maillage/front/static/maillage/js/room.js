/*
 * Maillage teleconsultation room (maillage.teleconsult): devices, waiting room, WebRTC mesh.
 *
 * The page carries its configuration in <script type="application/json"
 * id="room-config"> (the socket's path, my participant id, whether I am the
 * doctor, the ICE configuration) and its French texts in #room-text.
 *
 * - Devices: getUserMedia, a preview and a microphone level meter.
 * - The socket /ws/teleconsult/<act>/ carries typed frames {type, seq, data}:
 *   hello -> welcome (waiting or room); the doctor's lobby and admit; signal
 *   (SDP and ICE candidates, relayed by the server only between participants
 *   admitted to this act); chat; file; media; quality; incident; end.
 *   It reconnects by itself (250 ms, doubling, at most 2 s) and says hello
 *   again: an admitted participant is back in the room without being
 *   admitted again, and keeps the peer connections that still work.
 * - A mesh: one RTCPeerConnection per other participant (four at most).
 *   The one who enters offers; "perfect negotiation" settles collisions (the
 *   participant whose id sorts first is polite), so an ICE restart or a
 *   renegotiation from either side goes through the same path.
 *
 * Hooks for the network module (room_network.js, window.MaillageNetwork):
 * each peer connection is attached with MaillageNetwork.attach(pc, options)
 * when the module is on the page; its quality, incidents and audio-only
 * decisions come back through the options' callbacks. Without it, the room
 * measures round trips itself and restarts ICE once on "failed".
 * window.MaillageRoom exposes: peers() (id -> RTCPeerConnection),
 * send(frame), showQuality(id, level, detail), setAudioOnly(on, origin),
 * restartIce(), inbound() (bytes received per kind, for tests and figures),
 * state() (waiting or room) and dropSocket() (close the socket as a drop would).
 * Events "maillage:room" on document: {type: "peer", id, pc}, {type:
 * "peer-closed", id}, {type: "socket", state: "open"|"closed"}, and {type:
 * "frame", kind, data} for a frame the room itself does not handle (assisted.js).
 *
 * No inline script, no eval, no innerHTML: text goes in with textContent.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-room]");
  var configNode = document.getElementById("room-config");
  var textNode = document.getElementById("room-text");
  if (!root || !configNode || !textNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var T = JSON.parse(textNode.textContent);
  var me = config.me;
  var isDoctor = !!config.doctor;
  var ice = config.ice || {};

  var localStream = null;
  var screenTrack = null;
  var audioOnly = false;
  var socket = null;
  var attempts = 0;
  var retry = null;
  var pinger = null;
  var stopped = false;
  var where = null;
  var peers = {};
  var lastLevel = null;

  function $(selector) {
    return root.querySelector(selector);
  }

  function show(name) {
    ["setup", "waiting", "call", "ended"].forEach(function (section) {
      var node = $("[data-section='" + section + "']");
      if (node) {
        node.hidden = section !== name && !(section === "setup" && name === "waiting");
      }
    });
    root.setAttribute("data-state", name);
    // The act's status under the title was true when the page came; the call changes it.
    var status = { call: T.statusInProgress, ended: T.statusFinished }[name];
    var statusNode = document.querySelector("[data-act-status]");
    if (status && statusNode) {
      statusNode.textContent = status;
    }
  }

  function say(selector, text) {
    var node = $(selector);
    if (node) {
      node.textContent = text;
    }
  }

  function emit(detail) {
    document.dispatchEvent(new CustomEvent("maillage:room", { detail: detail }));
  }

  // --- Devices -------------------------------------------------------------------

  function startDevices() {
    if (localStream) {
      return Promise.resolve(localStream);
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("[data-device-status]", T.noDevices);
      return Promise.resolve(null);
    }
    var wanted = {
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } },
    };
    return navigator.mediaDevices
      .getUserMedia(wanted)
      .catch(function () {
        // No camera (or refused): the call goes on by sound alone.
        return navigator.mediaDevices.getUserMedia({ audio: true });
      })
      .then(function (stream) {
        localStream = stream;
        var preview = $("[data-preview]");
        if (preview) {
          preview.srcObject = stream;
        }
        var self = $("[data-self-video]");
        if (self) {
          self.srcObject = stream;
        }
        meter(stream);
        say(
          "[data-device-status]",
          stream.getVideoTracks().length ? T.devicesReady : T.microphoneOnly
        );
        var join = $("[data-join]");
        if (join) {
          join.disabled = false;
        }
        return stream;
      })
      .catch(function () {
        say("[data-device-status]", T.devicesRefused);
        return null;
      });
  }

  function meter(stream) {
    var bar = $("[data-level]");
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!bar || !Context || !stream.getAudioTracks().length) {
      return;
    }
    var context = new Context();
    var analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(stream).connect(analyser);
    var samples = new Uint8Array(analyser.fftSize);
    window.setInterval(function () {
      analyser.getByteTimeDomainData(samples);
      var peak = 0;
      for (var i = 0; i < samples.length; i += 1) {
        peak = Math.max(peak, Math.abs(samples[i] - 128));
      }
      bar.value = Math.min(1, peak / 64);
    }, 100);
  }

  // --- The socket ------------------------------------------------------------------

  function endpoint() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + config.socket;
  }

  function send(type, data) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: type, seq: 0, data: data || {} }));
      return true;
    }
    return false;
  }

  function connect() {
    window.clearTimeout(retry);
    socket = new WebSocket(endpoint());
    socket.addEventListener("open", function () {
      attempts = 0;
      send("hello", {});
      emit({ type: "socket", state: "open" });
      window.clearInterval(pinger);
      pinger = window.setInterval(function () {
        send("ping", { t: Date.now() });
      }, 5000);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(frame.type, frame.data || {});
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(pinger);
      emit({ type: "socket", state: "closed" });
      if (stopped || event.code === 4403 || event.code === 4410) {
        if (event.code === 4403 && !stopped) {
          say("[data-room-status]", T.refused);
        }
        return;
      }
      say("[data-room-status]", T.reconnecting);
      var delay = Math.min(2000, 250 * Math.pow(2, attempts));
      attempts += 1;
      retry = window.setTimeout(connect, delay);
    });
  }

  function handle(type, data) {
    if (type === "welcome") {
      welcome(data);
    } else if (type === "lobby") {
      renderLobby(data.waiting || []);
    } else if (type === "peer.joined") {
      var known = peers[data.participant];
      if (known) {
        known.name = data.name;
        label(known);
      } else {
        placeholder(data);
      }
    } else if (type === "peer.left") {
      left(data);
    } else if (type === "signal") {
      signal(data);
    } else if (type === "chat") {
      chatLine(data.name, data.text, data.at);
    } else if (type === "file") {
      fileLine(data);
    } else if (type === "media") {
      media(data);
    } else if (type === "quality") {
      remoteQuality(data);
    } else if (type === "pong") {
      if (typeof data.t === "number" && where === "waiting") {
        var rtt = Date.now() - data.t;
        var level = rtt < 300 ? "good" : rtt < 800 ? "fair" : "poor";
        send("quality", { level: level, rttMs: rtt });
        showQuality("self", level, { rttMs: rtt });
      }
    } else if (type === "ended") {
      finish();
    } else if (type === "error") {
      if (data.message) {
        say("[data-room-status]", data.message);
      }
    } else {
      // Frames of the apps that extend the room (assisted.js): told to the page.
      emit({ type: "frame", kind: type, data: data });
    }
  }

  function welcome(data) {
    where = data.where;
    say("[data-room-status]", "");
    if (isDoctor && data.waiting) {
      renderLobby(data.waiting);
    }
    if (where === "room") {
      enterRoom(data.peers || []);
    } else {
      show("waiting");
      say("[data-waiting-status]", T.waiting);
      send("ping", { t: Date.now() });
    }
  }

  // --- The doctor's waiting list ---------------------------------------------------

  function renderLobby(waiting) {
    var list = $("[data-lobby]");
    if (!list) {
      return;
    }
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    say("[data-lobby-empty]", waiting.length ? "" : T.nobodyWaits);
    waiting.forEach(function (person) {
      var item = document.createElement("li");
      item.setAttribute("data-waiting", person.participant);
      var name = document.createElement("strong");
      name.textContent = person.name;
      var meta = document.createElement("span");
      meta.className = "meta";
      var since = person.since ? new Date(person.since) : null;
      var minutes = since ? Math.max(0, Math.round((Date.now() - since.getTime()) / 60000)) : 0;
      meta.textContent =
        " " + person.roleLabel + " · " + T.waitingSince.replace("%(minutes)s", String(minutes)) + " · ";
      var quality = document.createElement("span");
      quality.className = "tag quality-" + person.quality;
      quality.setAttribute("data-quality-of", person.participant);
      quality.textContent = T.line + " " + person.qualityLabel + (person.rttMs ? " (" + Math.round(person.rttMs) + " ms)" : "");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = T.admit + " " + person.name;
      button.addEventListener("click", function () {
        button.disabled = true;
        send("admit", { participant: person.participant });
      });
      item.appendChild(name);
      item.appendChild(meta);
      item.appendChild(quality);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function remoteQuality(data) {
    var tag = root.querySelector("[data-quality-of='" + data.participant + "']");
    if (tag) {
      tag.className = "tag quality-" + data.level;
      tag.textContent = T.line + " " + (T.levels[data.level] || data.level) + (data.rttMs ? " (" + Math.round(data.rttMs) + " ms)" : "");
    }
  }

  // --- The room ------------------------------------------------------------------------

  function enterRoom(present) {
    show("call");
    startDevices().then(function () {
      present.forEach(function (person) {
        var existing = peers[person.participant];
        var state = existing && existing.pc.connectionState;
        if (existing && state !== "failed" && state !== "closed") {
          existing.name = person.name;
          label(existing);
          return;
        }
        // I am the one entering: I offer.
        createPeer(person.participant, person.name, newPcId(), true);
      });
      sendMedia();
    });
  }

  function newPcId() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return me.slice(0, 8) + "-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Names of those who entered, kept until their offer makes their tile (it carries no name).
  var joinedNames = {};

  function placeholder(person) {
    if (peers[person.participant]) {
      return peers[person.participant];
    }
    joinedNames[person.participant] = person.name;
    return null;
  }

  function tileFor(id, name) {
    var tiles = $("[data-tiles]");
    var tile = tiles.querySelector("[data-peer='" + id + "']");
    if (!tile) {
      tile = document.createElement("figure");
      tile.className = "tile";
      tile.setAttribute("data-peer", id);
      var video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.setAttribute("playsinline", "");
      var caption = document.createElement("figcaption");
      tile.appendChild(video);
      tile.appendChild(caption);
      tiles.appendChild(tile);
    }
    tile.querySelector("figcaption").textContent = name || T.someone;
    return tile;
  }

  function label(peer) {
    var caption = peer.tile.querySelector("figcaption");
    var state = peer.remoteMedia || {};
    var notes = [];
    if (state.audio === false) {
      notes.push(T.micOff);
    }
    if (state.audioOnly) {
      notes.push(T.audioOnlyShort);
    } else if (state.video === false) {
      notes.push(T.cameraOff);
    }
    if (peer.dropped) {
      notes.push(T.reconnectingShort);
    }
    caption.textContent = (peer.name || T.someone) + (notes.length ? " — " + notes.join(", ") : "");
  }

  function createPeer(id, name, pcId, offering) {
    closePeer(id, true);
    var pc = new RTCPeerConnection({
      iceServers: ice.iceServers || [],
      iceTransportPolicy: ice.iceTransportPolicy || "all",
    });
    var peer = {
      id: id,
      name: name,
      pc: pc,
      pcId: pcId,
      polite: me < id,
      makingOffer: false,
      ignoreOffer: false,
      tracksAdded: false,
      restarted: false,
      tile: tileFor(id, name),
      net: null,
    };
    peers[id] = peer;
    pc.addEventListener("icecandidate", function (event) {
      send("signal", {
        to: id,
        pc: peer.pcId,
        candidate: event.candidate ? event.candidate.toJSON() : null,
      });
    });
    pc.addEventListener("track", function (event) {
      var video = peer.tile.querySelector("video");
      var stream = event.streams && event.streams[0];
      if (!stream) {
        stream = video.srcObject instanceof MediaStream ? video.srcObject : new MediaStream();
        stream.addTrack(event.track);
      }
      if (video.srcObject !== stream) {
        video.srcObject = stream;
      }
      var playing = video.play();
      if (playing && playing.catch) {
        playing.catch(function () {});
      }
    });
    pc.addEventListener("negotiationneeded", function () {
      peer.makingOffer = true;
      pc.setLocalDescription()
        .then(function () {
          send("signal", { to: id, pc: peer.pcId, description: pc.localDescription.toJSON() });
        })
        .catch(function (error) {
          window.console && window.console.warn(error);
        })
        .then(function () {
          peer.makingOffer = false;
        });
    });
    pc.addEventListener("connectionstatechange", function () {
      peer.tile.setAttribute("data-connection", pc.connectionState);
      if (pc.connectionState === "connected") {
        peer.dropped = false;
        label(peer);
      }
      if (pc.connectionState === "failed" && !peer.net && !peer.restarted) {
        // Without the network module: one ICE restart, through the negotiation above.
        peer.restarted = true;
        pc.restartIce();
      }
    });
    if (offering) {
      addTracks(peer);
    }
    attachNetwork(peer);
    emit({ type: "peer", id: id, pc: pc });
    return peer;
  }

  function addTracks(peer) {
    if (peer.tracksAdded || !localStream) {
      return;
    }
    peer.tracksAdded = true;
    localStream.getTracks().forEach(function (track) {
      var sent = track.kind === "video" && screenTrack ? screenTrack : track;
      peer.pc.addTrack(sent, localStream);
    });
    if (audioOnly) {
      videoSenders(peer).forEach(function (sender) {
        sender.replaceTrack(null);
      });
    }
  }

  function videoSenders(peer) {
    return peer.pc.getSenders().filter(function (sender) {
      return sender.track ? sender.track.kind === "video" : sender.__video === true;
    });
  }

  function attachNetwork(peer) {
    if (!window.MaillageNetwork || !window.MaillageNetwork.attach) {
      return;
    }
    peer.net = window.MaillageNetwork.attach(peer.pc, {
      videoMaxKbps: ice.videoMaxKbps || 250,
      iceUrl: config.iceUrl || null,
      credentialsTtl: ice.credentialsTtl,
      onQuality: function (q) {
        showQuality(peer.id, q.level, q);
        if (q.changed) {
          send("quality", {
            level: q.level,
            rttMs: q.rttMs,
            lossPct: q.lossPct,
            inKbps: q.inKbps,
            outKbps: q.outKbps,
            availableKbps: q.availableKbps,
            audioOnly: !!q.audioOnly,
          });
        }
      },
      onIncident: function (kind, detail) {
        send("incident", { kind: kind, detail: detail || {} });
      },
      onAudioOnly: function (on, origin) {
        audioOnly = on;
        pressed("[data-toggle='audio-only']", on);
        if (origin !== "remote") {
          sendMedia();
        }
      },
      onAdvice: function (advice) {
        say("[data-quality]", advice === "audio_only" ? T.adviceAudioOnly : T.adviceVideoBack);
      },
    });
  }

  function signal(data) {
    var from = data.from;
    var peer = peers[from];
    var description = data.description;
    if (description && description.type === "offer" && (!peer || peer.pcId !== data.pc)) {
      // A new connection from this participant (she entered, or came back with a new page).
      var name = peer ? peer.name : joinedNames[from] || null;
      peer = createPeer(from, name, data.pc, false);
    }
    if (!peer || peer.pcId !== data.pc) {
      return;
    }
    var pc = peer.pc;
    if (description) {
      var collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) {
        return;
      }
      pc.setRemoteDescription(description)
        .then(function () {
          if (description.type !== "offer") {
            return null;
          }
          addTracks(peer);
          return pc.setLocalDescription().then(function () {
            send("signal", { to: from, pc: peer.pcId, description: pc.localDescription.toJSON() });
          });
        })
        .catch(function (error) {
          window.console && window.console.warn(error);
        });
    } else if ("candidate" in data) {
      pc.addIceCandidate(data.candidate || undefined).catch(function (error) {
        if (!peer.ignoreOffer) {
          window.console && window.console.warn(error);
        }
      });
    }
  }

  function left(data) {
    var peer = peers[data.participant];
    if (!peer) {
      return;
    }
    if (data.dropped) {
      // Her line dropped: keep the connection, she comes back by herself.
      peer.dropped = true;
      label(peer);
      return;
    }
    closePeer(data.participant, false);
  }

  function closePeer(id, replacing) {
    var peer = peers[id];
    if (!peer) {
      return;
    }
    if (peer.net && peer.net.detach) {
      peer.net.detach();
    }
    peer.pc.close();
    delete peers[id];
    if (!replacing && peer.tile.parentNode) {
      peer.tile.parentNode.removeChild(peer.tile);
    }
    emit({ type: "peer-closed", id: id });
  }

  function media(data) {
    var peer = peers[data.participant];
    if (!peer) {
      return;
    }
    peer.remoteMedia = data;
    label(peer);
    if (data.audioOnly && peer.net && peer.net.setAudioOnly && !audioOnly) {
      peer.net.setAudioOnly(true, "remote");
    }
  }

  function sendMedia() {
    var audio = localStream && localStream.getAudioTracks()[0];
    var video = localStream && localStream.getVideoTracks()[0];
    send("media", {
      audio: !!(audio && audio.enabled),
      video: !!(video && video.enabled) && !audioOnly,
      audioOnly: audioOnly,
      screen: !!screenTrack,
    });
  }

  // --- Controls ----------------------------------------------------------------------

  function pressed(selector, on) {
    var button = $(selector);
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  function toggleTrack(kind, selector) {
    var track = localStream && (kind === "audio" ? localStream.getAudioTracks()[0] : localStream.getVideoTracks()[0]);
    if (!track) {
      return;
    }
    track.enabled = !track.enabled;
    pressed(selector, !track.enabled);
    sendMedia();
  }

  function setAudioOnly(on, origin) {
    var nets = Object.keys(peers)
      .map(function (id) {
        return peers[id].net;
      })
      .filter(Boolean);
    if (nets.length) {
      nets.forEach(function (net) {
        net.setAudioOnly(on, origin || "local");
      });
    } else {
      Object.keys(peers).forEach(function (id) {
        var video = localStream && localStream.getVideoTracks()[0];
        videoSenders(peers[id]).forEach(function (sender) {
          sender.__video = true;
          sender.replaceTrack(on ? null : screenTrack || video || null);
        });
      });
      send("incident", { kind: on ? "audio_only" : "video_back", detail: { origin: origin || "local" } });
    }
    audioOnly = on;
    pressed("[data-toggle='audio-only']", on);
    sendMedia();
  }

  function shareScreen() {
    if (screenTrack) {
      stopScreen();
      return;
    }
    if (!navigator.mediaDevices.getDisplayMedia) {
      say("[data-room-status]", T.noScreenShare);
      return;
    }
    navigator.mediaDevices
      .getDisplayMedia({ video: true })
      .then(function (stream) {
        screenTrack = stream.getVideoTracks()[0];
        screenTrack.addEventListener("ended", stopScreen);
        replaceVideo(screenTrack);
        pressed("[data-toggle='screen']", true);
        sendMedia();
      })
      .catch(function () {});
  }

  function stopScreen() {
    if (!screenTrack) {
      return;
    }
    screenTrack.stop();
    screenTrack = null;
    replaceVideo(localStream && localStream.getVideoTracks()[0]);
    pressed("[data-toggle='screen']", false);
    sendMedia();
  }

  function replaceVideo(track) {
    if (audioOnly) {
      return;
    }
    Object.keys(peers).forEach(function (id) {
      videoSenders(peers[id]).forEach(function (sender) {
        sender.__video = true;
        sender.replaceTrack(track || null);
      });
    });
  }

  function finish() {
    stopped = true;
    Object.keys(peers).forEach(function (id) {
      closePeer(id, false);
    });
    if (localStream) {
      localStream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stopScreen();
    if (socket) {
      socket.close();
    }
    show("ended");
  }

  // --- Chat, files, quality -----------------------------------------------------------------

  function chatLine(name, text, at) {
    var list = $("[data-chat]");
    if (!list) {
      return;
    }
    var item = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = name + " ";
    var when = document.createElement("span");
    when.className = "meta";
    when.textContent = at ? new Date(at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" }) + " " : "";
    item.appendChild(who);
    item.appendChild(when);
    item.appendChild(document.createTextNode(text));
    list.appendChild(item);
  }

  function fileLine(data) {
    var list = $("[data-files]");
    if (!list || list.querySelector("[data-file='" + data.file + "']")) {
      return;
    }
    var item = document.createElement("li");
    item.setAttribute("data-file", data.file);
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.name;
    item.appendChild(link);
    item.appendChild(document.createTextNode(" — " + data.from));
    var template = $("[data-file-template]");
    if (template && template.content) {
      var form = template.content.firstElementChild.cloneNode(true);
      form.action = data.url + "classer/";
      item.appendChild(form);
    }
    list.appendChild(item);
    say("[data-files-empty]", "");
  }

  function showQuality(id, level, detail) {
    if (id !== "self" && Object.keys(peers).length > 1) {
      var peer = peers[id];
      if (peer) {
        peer.tile.setAttribute("data-quality", level);
      }
    }
    if (level === lastLevel && id !== "self") {
      return;
    }
    lastLevel = level;
    var text = T.line + " " + (T.levels[level] || level);
    if (detail && typeof detail.rttMs === "number") {
      text += " (" + Math.round(detail.rttMs) + " ms)";
    }
    var node = $("[data-quality]");
    if (node) {
      node.textContent = text;
      node.className = "tag quality-" + level;
    }
  }

  // Without the network module: the round trip of the first connection, every 3 s.
  function measure() {
    if (window.MaillageNetwork) {
      return;
    }
    var ids = Object.keys(peers);
    if (!ids.length) {
      return;
    }
    peers[ids[0]].pc.getStats().then(function (report) {
      var rtt = null;
      report.forEach(function (stat) {
        if (stat.type === "candidate-pair" && stat.nominated && typeof stat.currentRoundTripTime === "number") {
          rtt = stat.currentRoundTripTime * 1000;
        }
      });
      if (rtt === null) {
        return;
      }
      var level = rtt < 300 ? "good" : rtt < 800 ? "fair" : "poor";
      var changed = level !== lastLevel;
      showQuality("self", level, { rttMs: rtt });
      if (changed) {
        send("quality", { level: level, rttMs: rtt });
      }
    });
  }

  function inbound() {
    var ids = Object.keys(peers);
    var totals = { audio: 0, video: 0, peers: ids.length, connected: 0 };
    return Promise.all(
      ids.map(function (id) {
        if (peers[id].pc.connectionState === "connected") {
          totals.connected += 1;
        }
        return peers[id].pc.getStats().then(function (report) {
          report.forEach(function (stat) {
            if (stat.type === "inbound-rtp" && (stat.kind === "audio" || stat.kind === "video")) {
              totals[stat.kind] += stat.bytesReceived || 0;
            }
          });
        });
      })
    ).then(function () {
      return totals;
    });
  }

  // --- Wiring ---------------------------------------------------------------------------------

  function on(selector, event, handler) {
    var node = $(selector);
    if (node) {
      node.addEventListener(event, handler);
    }
  }

  on("[data-start-devices]", "click", function () {
    startDevices();
  });
  on("[data-join]", "click", function (event) {
    event.currentTarget.disabled = true;
    startDevices().then(connect);
  });
  on("[data-toggle='mic']", "click", function () {
    toggleTrack("audio", "[data-toggle='mic']");
  });
  on("[data-toggle='camera']", "click", function () {
    toggleTrack("video", "[data-toggle='camera']");
  });
  on("[data-toggle='audio-only']", "click", function () {
    setAudioOnly(!audioOnly, "local");
  });
  on("[data-toggle='screen']", "click", shareScreen);
  on("[data-leave]", "click", function () {
    send("leave", {});
    finish();
  });
  on("[data-end]", "click", function () {
    if (window.confirm(T.confirmEnd)) {
      send("end", {});
    }
  });
  on("[data-chat-form]", "submit", function (event) {
    event.preventDefault();
    var input = event.currentTarget.querySelector("input[name='text']");
    var text = input.value.trim();
    if (text && send("chat", { text: text })) {
      input.value = "";
    }
  });
  on("[data-file-form]", "submit", function (event) {
    event.preventDefault();
    var form = event.currentTarget;
    var body = new FormData(form);
    window
      .fetch(config.filesUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            say("[data-room-status]", data.error || T.fileRefused);
          } else {
            form.reset();
          }
        });
      })
      .catch(function () {
        say("[data-room-status]", T.fileRefused);
      });
  });
  window.setInterval(measure, 3000);
  window.addEventListener("online", function () {
    if (!stopped && (!socket || socket.readyState === WebSocket.CLOSED)) {
      attempts = 0;
      connect();
    }
  });

  window.MaillageRoom = {
    peers: function () {
      var out = {};
      Object.keys(peers).forEach(function (id) {
        out[id] = peers[id].pc;
      });
      return out;
    },
    send: send,
    showQuality: showQuality,
    setAudioOnly: setAudioOnly,
    restartIce: function () {
      Object.keys(peers).forEach(function (id) {
        if (peers[id].net && peers[id].net.restartIce) {
          peers[id].net.restartIce();
        } else {
          peers[id].pc.restartIce();
        }
      });
    },
    inbound: inbound,
    state: function () {
      return where;
    },
    // Close the socket as a dropped line would (it reconnects by itself): tests, diagnostics.
    dropSocket: function () {
      if (socket) {
        socket.close();
      }
    },
  };

  show("setup");
  if (root.getAttribute("data-autostart") === "true") {
    startDevices();
  }
})();
