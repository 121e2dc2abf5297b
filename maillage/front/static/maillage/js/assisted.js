/*
 * Maillage assisted teleconsultation (maillage.assisted) in the room page.
 *
 * Rides on the room's socket (room.js: window.MaillageRoom.send, and the
 * "maillage:room" events of type "frame" for the frames the room does not
 * handle itself). The doctor presses a measurement button: "assisted.ask".
 * The assistant's page shows the request and its instructions; she connects
 * a Bluetooth device (bluetooth.js) or types the value, and "assisted.reading"
 * goes to the server with the device's own bytes (the server parses them
 * again) or the typed value (checked there: unit and range, French message).
 * The readings as stored come back to the doctor ("assisted.reading"), who
 * marks the significant ones ("assisted.mark").
 *
 * "Capturer une image" draws the live video the page shows (the doctor: the
 * first remote tile with frames; the assistant: her own camera, an otoscope
 * say) on a canvas and posts it as a JPEG; the assistant also imports files
 * (ECG, stethoscope sound, photos). Both go by POST (config.mediaUrl: the
 * server checks the content and the seat); the room is told by the server
 * ("assisted.media", to each receiver the policy grants), and the doctor
 * marks a medium significant ("assisted.mark" with "media").
 *
 * No inline script, no eval, no innerHTML: text goes in with textContent.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-assisted]");
  var configNode = document.getElementById("assisted-config");
  if (!root || !configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var T = {};
  var textsNode = root.querySelector("[data-assisted-texts]");
  if (textsNode) {
    Array.prototype.forEach.call(textsNode.content.querySelectorAll("[data-t]"), function (node) {
      T[node.getAttribute("data-t")] = node.textContent;
    });
  }
  var currentRequest = "";

  function $(selector) {
    return root.querySelector(selector);
  }

  function say(selector, text) {
    var node = $(selector);
    if (node) {
      node.textContent = text || "";
    }
  }

  function send(type, data) {
    return !!(window.MaillageRoom && window.MaillageRoom.send(type, data));
  }

  // --- The doctor -------------------------------------------------------------------

  Array.prototype.forEach.call(root.querySelectorAll("[data-assisted-ask]"), function (button) {
    button.addEventListener("click", function () {
      send("assisted.ask", { kind: button.getAttribute("data-assisted-ask") });
    });
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-assisted-mark]") : null;
    if (!button) {
      return;
    }
    var on = button.getAttribute("aria-pressed") !== "true";
    send("assisted.mark", { observation: button.getAttribute("data-assisted-mark"), significant: on });
  });

  function showReading(reading, doctor) {
    var list = $("[data-assisted-readings]");
    if (!list || list.querySelector("[data-reading='" + reading.observation + "']")) {
      return;
    }
    var item = document.createElement("li");
    item.setAttribute("data-reading", reading.observation);
    var label = document.createElement("strong");
    label.textContent = reading.label;
    item.appendChild(label);
    item.appendChild(document.createTextNode(" " + reading.text + " "));
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = reading.time + " · " + reading.methodLabel + (reading.device ? " · " + reading.device : "");
    item.appendChild(meta);
    if (doctor) {
      var mark = document.createElement("button");
      mark.type = "button";
      mark.className = "button-secondary";
      mark.setAttribute("data-assisted-mark", reading.observation);
      mark.setAttribute("aria-pressed", reading.significant ? "true" : "false");
      mark.textContent = T.significant;
      item.appendChild(document.createTextNode(" "));
      item.appendChild(mark);
    }
    list.insertBefore(item, list.firstChild);
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-assisted-mark-media]") : null;
    if (!button) {
      return;
    }
    var on = button.getAttribute("aria-pressed") !== "true";
    send("assisted.mark", { media: button.getAttribute("data-assisted-mark-media"), significant: on });
  });

  // --- Stills and files -----------------------------------------------------------------

  function showMedia(medium, doctor) {
    var list = $("[data-assisted-media]");
    if (!list || list.querySelector("[data-media='" + medium.media + "']")) {
      return;
    }
    var item = document.createElement("li");
    item.setAttribute("data-media", medium.media);
    var link = document.createElement("a");
    link.href = medium.url;
    link.target = "_blank";
    link.rel = "noopener";
    if (medium.image) {
      var image = document.createElement("img");
      image.src = medium.url;
      image.alt = medium.title;
      image.width = 160;
      link.appendChild(image);
    } else {
      link.textContent = medium.title;
    }
    item.appendChild(link);
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = " " + medium.kindLabel + " · " + medium.time + " · " + medium.performer;
    item.appendChild(meta);
    if (doctor) {
      var mark = document.createElement("button");
      mark.type = "button";
      mark.className = "button-secondary";
      mark.setAttribute("data-assisted-mark-media", medium.media);
      mark.setAttribute("aria-pressed", medium.significant ? "true" : "false");
      mark.textContent = T.significant;
      item.appendChild(document.createTextNode(" "));
      item.appendChild(mark);
    }
    list.insertBefore(item, list.firstChild);
  }

  function postMedia(body) {
    say("[data-assisted-media-status]", "");
    body.append("csrfmiddlewaretoken", config.csrf || "");
    return window
      .fetch(config.mediaUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            say("[data-assisted-media-status]", data.message || T.mediaRefused);
            return false;
          }
          showMedia(data.media, !!config.doctor);
          say("[data-assisted-media-status]", T.mediaSent);
          return true;
        });
      })
      .catch(function () {
        say("[data-assisted-media-status]", T.mediaRefused);
        return false;
      });
  }

  function liveVideo() {
    var videos = config.doctor
      ? document.querySelectorAll("[data-tiles] [data-peer] video")
      : document.querySelectorAll("[data-self-video]");
    for (var i = 0; i < videos.length; i += 1) {
      if (videos[i].videoWidth > 0) {
        return videos[i];
      }
    }
    return null;
  }

  var capture = $("[data-assisted-capture]");
  if (capture) {
    capture.addEventListener("click", function () {
      var video = liveVideo();
      if (!video) {
        say("[data-assisted-media-status]", T.noVideo);
        return;
      }
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (!blob) {
          say("[data-assisted-media-status]", T.noVideo);
          return;
        }
        var body = new FormData();
        body.append("captured", "1");
        body.append("file", blob, "capture.jpg");
        postMedia(body);
      }, "image/jpeg", 0.9);
    });
  }

  var importForm = $("[data-assisted-import]");
  if (importForm) {
    importForm.addEventListener("submit", function (event) {
      event.preventDefault();
      postMedia(new FormData(importForm)).then(function (done) {
        if (done) {
          importForm.reset();
        }
      });
    });
  }

  (config.media || []).forEach(function (medium) {
    showMedia(medium, !!config.doctor);
  });

  // --- The assistant ----------------------------------------------------------------

  function showRequest(data) {
    var box = $("[data-assisted-request]");
    if (!box) {
      return;
    }
    currentRequest = data.request || "";
    say("[data-assisted-request-label]", data.label);
    var list = $("[data-assisted-instructions]");
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    (data.instructions || []).forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    box.hidden = false;
    var select = $("#assisted-kind");
    if (select && data.manual && config.units[data.kind]) {
      select.value = data.kind;
      fillUnits();
    }
  }

  function fillUnits() {
    var select = $("#assisted-kind");
    var unit = $("#assisted-unit");
    if (!select || !unit) {
      return;
    }
    while (unit.firstChild) {
      unit.removeChild(unit.firstChild);
    }
    (config.units[select.value] || []).forEach(function (u) {
      var option = document.createElement("option");
      option.value = u.code;
      option.textContent = u.label;
      unit.appendChild(option);
    });
    var pressure = select.value === "blood_pressure";
    $("[data-manual-pressure]").hidden = !pressure;
    $("[data-manual-single]").hidden = pressure;
  }

  var form = $("[data-assisted-manual]");
  if (form) {
    fillUnits();
    $("#assisted-kind").addEventListener("change", fillUnits);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say("[data-assisted-error]", "");
      send("assisted.reading", {
        source: "manual",
        request: currentRequest,
        kind: form.elements.kind.value,
        value: form.elements.value.value,
        systolic: form.elements.systolic.value,
        diastolic: form.elements.diastolic.value,
        unit: form.elements.unit.value
      });
    });
  }

  function sendDevice(reading) {
    var device = reading.device || {};
    send("assisted.reading", {
      source: "device",
      request: currentRequest,
      characteristic: "0x" + Number(reading.characteristic).toString(16),
      bytes: reading.bytes,
      device: { manufacturer: device.manufacturer || "", model: device.model || "", systemId: device.systemId || "" }
    });
  }

  var bluetooth = window.MaillageBluetooth;
  var devices = $("[data-assisted-devices]");
  if (devices) {
    if (!bluetooth || !bluetooth.available()) {
      devices.hidden = true;
      $("[data-assisted-bluetooth-missing]").hidden = false;
    }
    Array.prototype.forEach.call(devices.querySelectorAll("[data-assisted-connect]"), function (button) {
      button.addEventListener("click", function () {
        bluetooth.connect(button.getAttribute("data-assisted-connect"), {
          onReading: sendDevice,
          onError: function () { say("[data-assisted-device-status]", T.badPacket); }
        }).then(function () {
          say("[data-assisted-device-status]", T.connected);
        }).catch(function () {
          say("[data-assisted-device-status]", T.connectFailed);
        });
      });
    });
  }

  if (form && config.request) {
    showRequest(config.request);
  }

  // --- Frames from the server ---------------------------------------------------------

  document.addEventListener("maillage:room", function (event) {
    var detail = event.detail || {};
    if (detail.type !== "frame") {
      return;
    }
    var data = detail.data || {};
    if (detail.kind === "assisted.asked") {
      if (form) {
        showRequest(data);
      } else {
        say("[data-assisted-status]", T.asked + " " + data.label);
      }
    } else if (detail.kind === "assisted.reading") {
      (data.readings || []).forEach(function (reading) {
        showReading(reading, !form);
      });
      say("[data-assisted-warning]", (data.warnings || []).join(" "));
      if (data.mine) {
        say("[data-assisted-error]", "");
        say("[data-assisted-device-status]", T.sent);
        if (form) {
          form.reset();
          fillUnits();
        }
      }
    } else if (detail.kind === "assisted.refused") {
      say("[data-assisted-error]", data.message);
      say("[data-assisted-status]", data.message);
    } else if (detail.kind === "assisted.media") {
      (data.media || []).forEach(function (medium) {
        showMedia(medium, !!config.doctor);
      });
    } else if (detail.kind === "assisted.marked") {
      var mark = data.media
        ? root.querySelector("[data-assisted-mark-media='" + data.media + "']")
        : root.querySelector("[data-assisted-mark='" + data.observation + "']");
      if (mark) {
        mark.setAttribute("aria-pressed", data.significant ? "true" : "false");
      }
    }
  });
})();
