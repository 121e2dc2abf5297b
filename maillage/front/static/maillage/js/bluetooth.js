/*
 * Maillage Bluetooth: health devices' readings in the assistant's browser.
 *
 * The same parser as maillage/lib/bluetooth.py (STANDARDS.md, "Bluetooth
 * health devices"), run on the same byte vectors (lib/tests/bluetooth_vectors.json)
 * by the Python tests and, through Playwright, by the browser tests. Our own
 * code, no library.
 *
 *   var reading = MaillageBluetooth.parse(0x2A35, dataView);  // or ArrayBuffer, Uint8Array
 *   // {characteristic: 0x2A35, kind: "blood_pressure", time: "2026-12-03T10:20:30" | null,
 *   //  values: {systolic: {value: "120", unit: "mm[Hg]", number: 120, loinc: "8480-6",
 *   //                      mdc: "150021"}, ...}, user, status, ...}
 *   // A value is an exact decimal text ("36.6") or a special: "NaN", "NRes", "+INF",
 *   // "-INF", "reserved" (then number is null). A malformed packet throws
 *   // MaillageBluetooth.MalformedPacket with .problem: empty | truncated | bad_time |
 *   // unknown_characteristic.
 *
 *   MaillageBluetooth.connect("blood_pressure", {
 *     onReading: function (reading) {},   // reading.device: {id, name, manufacturer, model, systemId};
 *                                         // reading.bytes: the device's bytes in hex, for the server
 *     onProgress: function (reading) {},  // shown only: the cuff inflating (0x2A36), the
 *                                         // thermometer settling (0x2A1E), a glucose
 *                                         // value's context (0x2A34); never sent
 *     onError: function (error) {},       // a malformed packet; the connection stays
 *     onDisconnect: function () {}
 *   }, {anyDevice: false}).then(function (link) { link.disconnect(); });
 *   // anyDevice: list every device around, for those that do not advertise their service
 *   // kinds: blood_pressure, thermometer, pulse_oximeter, weight_scale, glucose
 *   MaillageBluetooth.available()  // whether this browser has Web Bluetooth (else: manual entry)
 *
 * connect() must run from a click (the browser's rule for requestDevice). Each
 * notification or indication goes through MaillageBluetooth.receive(characteristic,
 * dataView, handlers, device): a simulated device feeds the same path. No DOM, no eval.
 */
(function () {
  "use strict";

  var SERVICES = {
    blood_pressure: 0x1810,
    thermometer: 0x1809,
    pulse_oximeter: 0x1822,
    weight_scale: 0x181d,
    glucose: 0x1808
  };
  // Each device kind's characteristics, those it lacks skipped. The intermediate cuff
  // pressure (0x2a36), the intermediate temperature (0x2a1e) and the glucose measurement
  // context (0x2a34) are SHOWN_ONLY: told as progress, never as a reading to record.
  var MEASUREMENTS = {
    blood_pressure: [0x2a35, 0x2a36],
    thermometer: [0x2a1c, 0x2a1e],
    pulse_oximeter: [0x2a5f, 0x2a5e],
    weight_scale: [0x2a9d],
    glucose: [0x2a18, 0x2a34]
  };
  var SHOWN_ONLY = [0x2a36, 0x2a1e, 0x2a34];
  var DEVICE_INFORMATION = 0x180a;
  var MANUFACTURER_NAME = 0x2a29;
  var MODEL_NUMBER = 0x2a24;
  var SYSTEM_ID = 0x2a23;
  var RECORD_ACCESS_CONTROL_POINT = 0x2a52;

  // Same table as CODES in lib/bluetooth.py.
  var CODES = {
    systolic: ["8480-6", "150021"],
    diastolic: ["8462-4", "150022"],
    mean_arterial: ["8478-0", "150023"],
    pulse_rate: ["8867-4", "149530"],
    spo2: ["2708-6", "150456"],
    pulse_amplitude_index: [null, null],
    temperature: ["8310-5", "150364"],
    weight: ["29463-7", "188736"],
    height: ["8302-2", "188740"],
    bmi: ["39156-5", "188752"],
    glucose: ["2345-7", "160368"]
  };

  function MalformedPacket(problem, detail) {
    this.name = "MalformedPacket";
    this.problem = problem;
    this.detail = detail;
    this.message = problem + ": " + detail;
  }
  MalformedPacket.prototype = Object.create(Error.prototype);
  MalformedPacket.prototype.constructor = MalformedPacket;

  // --- IEEE-11073 numbers -------------------------------------------------

  var SFLOAT_SPECIALS = { 0x07ff: "NaN", 0x0800: "NRes", 0x07fe: "+INF", 0x0802: "-INF", 0x0801: "reserved" };
  var FLOAT_SPECIALS = {
    0x007fffff: "NaN", 0x00800000: "NRes", 0x007ffffe: "+INF", 0x00800002: "-INF", 0x00800001: "reserved"
  };

  // Exact decimal text from the digits, as plain_text() in Python: never through a binary float.
  function plainText(mantissa, exponent) {
    if (mantissa === 0) {
      return "0";
    }
    var sign = mantissa < 0 ? "-" : "";
    var digits = String(Math.abs(mantissa));
    if (exponent >= 0) {
      return sign + digits + "0".repeat(exponent);
    }
    while (digits.length < -exponent + 1) {
      digits = "0" + digits;
    }
    var whole = digits.slice(0, digits.length + exponent);
    var fraction = trimEnd(digits.slice(digits.length + exponent), "0");
    return sign + whole + (fraction ? "." + fraction : "");
  }

  function trimEnd(text, character) {
    var end = text.length;
    while (end > 0 && text.charAt(end - 1) === character) {
      end--;
    }
    return text.slice(0, end);
  }

  function signed(raw, bits) {
    return raw >= Math.pow(2, bits - 1) ? raw - Math.pow(2, bits) : raw;
  }

  function number(mantissa, exponent, special) {
    if (special) {
      return { mantissa: 0, exponent: 0, special: special, text: special, number: null };
    }
    var text = plainText(mantissa, exponent);
    return { mantissa: mantissa, exponent: exponent, special: null, text: text, number: Number(text) };
  }

  function decodeSfloat(raw) {
    if (Object.prototype.hasOwnProperty.call(SFLOAT_SPECIALS, raw)) {
      return number(0, 0, SFLOAT_SPECIALS[raw]);
    }
    return number(signed(raw & 0x0fff, 12), signed(raw >>> 12, 4), null);
  }

  function decodeFloat(raw) {
    raw = raw >>> 0;
    if (Object.prototype.hasOwnProperty.call(FLOAT_SPECIALS, raw)) {
      return number(0, 0, FLOAT_SPECIALS[raw]);
    }
    return number(signed(raw & 0xffffff, 24), signed(raw >>> 24, 8), null);
  }

  // --- Reading bytes ------------------------------------------------------

  function bytesOf(data) {
    if (data instanceof Uint8Array) {
      return data;
    }
    if (data instanceof DataView) {
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    if (data instanceof ArrayBuffer) {
      return new Uint8Array(data);
    }
    return Uint8Array.from(data);
  }

  function Reader(data, what) {
    this.bytes = bytesOf(data);
    this.what = what;
    this.pos = 0;
    if (this.bytes.length === 0) {
      throw new MalformedPacket("empty", what + ": no bytes");
    }
  }
  Reader.prototype.uint = function (size, field) {
    if (this.pos + size > this.bytes.length) {
      throw new MalformedPacket(
        "truncated",
        this.what + ": " + field + " needs " + size + " bytes at offset " + this.pos + ", " +
          (this.bytes.length - this.pos) + " left"
      );
    }
    var value = 0;
    for (var i = size - 1; i >= 0; i--) {
      value = value * 256 + this.bytes[this.pos + i];
    }
    this.pos += size;
    return value;
  };
  Reader.prototype.sint = function (size, field) {
    return signed(this.uint(size, field), size * 8);
  };
  Reader.prototype.sfloat = function (field) {
    return decodeSfloat(this.uint(2, field));
  };
  Reader.prototype.float32 = function (field) {
    return decodeFloat(this.uint(4, field));
  };

  function pad(n, width) {
    var text = String(n);
    while (text.length < width) {
      text = "0" + text;
    }
    return text;
  }

  function isoText(date) {
    // date: a Date whose UTC fields are the device's local clock.
    return pad(date.getUTCFullYear(), 4) + "-" + pad(date.getUTCMonth() + 1, 2) + "-" +
      pad(date.getUTCDate(), 2) + "T" + pad(date.getUTCHours(), 2) + ":" +
      pad(date.getUTCMinutes(), 2) + ":" + pad(date.getUTCSeconds(), 2);
  }

  // Bluetooth Date Time; year, month or day 0: not known (null). Returns a Date in UTC fields.
  Reader.prototype.dateTime = function (field) {
    var year = this.uint(2, field);
    var parts = [];
    for (var i = 0; i < 5; i++) {
      parts.push(this.uint(1, field));
    }
    var month = parts[0], day = parts[1], hours = parts[2], minutes = parts[3], seconds = parts[4];
    if (year === 0 || month === 0 || day === 0) {
      return null;
    }
    var date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hours, minutes, seconds, 0);
    var valid = year >= 1582 && year <= 9999 && month <= 12 && hours <= 23 && minutes <= 59 &&
      seconds <= 59 && date.getUTCDate() === day && date.getUTCMonth() === month - 1;
    if (!valid) {
      throw new MalformedPacket("bad_time", this.what + ": " + field + " " +
        [year, month, day, hours, minutes, seconds].join("/"));
    }
    return date;
  };

  function quantity(measure, num, unit) {
    var codes = CODES[measure];
    return { value: num.text, unit: unit, number: num.number, special: num.special,
      mantissa: num.mantissa, exponent: num.exponent, loinc: codes[0], mdc: codes[1] };
  }

  function bits(raw, names) {
    var set = [];
    Object.keys(names).forEach(function (bit) {
      if (Math.floor(raw / Math.pow(2, Number(bit))) % 2 === 1) {
        set.push(names[bit]);
      }
    });
    return set;
  }

  // --- The characteristics ------------------------------------------------

  var BLOOD_PRESSURE_STATUS = { 0: "body_movement", 1: "cuff_too_loose", 2: "irregular_pulse" };
  var PULSE_RANGE = { 1: "pulse_above_range", 2: "pulse_below_range" };

  function bloodPressure(data) {
    var r = new Reader(data, "blood pressure measurement");
    var flags = r.uint(1, "flags");
    var unit = flags & 0x01 ? "kPa" : "mm[Hg]";
    var values = {
      systolic: quantity("systolic", r.sfloat("systolic"), unit),
      diastolic: quantity("diastolic", r.sfloat("diastolic"), unit),
      mean_arterial: quantity("mean_arterial", r.sfloat("mean arterial pressure"), unit)
    };
    var time = flags & 0x02 ? r.dateTime("time stamp") : null;
    if (flags & 0x04) {
      values.pulse_rate = quantity("pulse_rate", r.sfloat("pulse rate"), "/min");
    }
    var user = flags & 0x08 ? r.uint(1, "user id") : null;
    var status = null;
    if (flags & 0x10) {
      var raw = r.uint(2, "measurement status");
      status = bits(raw, BLOOD_PRESSURE_STATUS);
      if (PULSE_RANGE[(raw >> 3) & 3]) {
        status.push(PULSE_RANGE[(raw >> 3) & 3]);
      }
      if ((raw >> 5) & 1) {
        status.push("improper_position");
      }
    }
    return { kind: "blood_pressure", time: time && isoText(time), values: values, user: user, status: status };
  }

  var TEMPERATURE_SITES = {
    1: "armpit", 2: "body", 3: "ear", 4: "finger", 5: "gastro_intestinal", 6: "mouth", 7: "rectum",
    8: "toe", 9: "tympanum"
  };

  function temperature(data) {
    var r = new Reader(data, "temperature measurement");
    var flags = r.uint(1, "flags");
    var value = quantity("temperature", r.float32("temperature"), flags & 0x01 ? "[degF]" : "Cel");
    var time = flags & 0x02 ? r.dateTime("time stamp") : null;
    var site = null;
    if (flags & 0x04) {
      site = TEMPERATURE_SITES[r.uint(1, "temperature type")] || "reserved";
    }
    return { kind: "temperature", time: time && isoText(time), values: { temperature: value }, site: site };
  }

  var PLX_MEASUREMENT_STATUS = {
    5: "measurement_ongoing", 6: "early_estimated_data", 7: "validated_data", 8: "fully_qualified_data",
    9: "data_from_storage", 10: "data_for_demonstration", 11: "data_for_testing",
    12: "calibration_ongoing", 13: "measurement_unavailable", 14: "questionable_measurement",
    15: "invalid_measurement"
  };
  var PLX_DEVICE_STATUS = {
    0: "extended_display_update", 1: "equipment_malfunction", 2: "signal_processing_irregularity",
    3: "inadequate_signal", 4: "poor_signal", 5: "low_perfusion", 6: "erratic_signal",
    7: "nonpulsatile_signal", 8: "questionable_pulse", 9: "signal_analysis_ongoing",
    10: "sensor_interference", 11: "sensor_unconnected", 12: "unknown_sensor", 13: "sensor_displaced",
    14: "sensor_malfunction", 15: "sensor_disconnected"
  };

  function spo2Pair(r, values, suffix) {
    values["spo2" + suffix] = quantity("spo2", r.sfloat("SpO2" + suffix), "%");
    values["pulse_rate" + suffix] = quantity("pulse_rate", r.sfloat("pulse rate" + suffix), "/min");
  }

  function plxTail(r, flags, statusBit, reading) {
    reading.status = flags & statusBit ? bits(r.uint(2, "measurement status"), PLX_MEASUREMENT_STATUS) : null;
    reading.device_status = flags & (statusBit << 1)
      ? bits(r.uint(3, "device and sensor status"), PLX_DEVICE_STATUS)
      : null;
    if (flags & (statusBit << 2)) {
      reading.values.pulse_amplitude_index =
        quantity("pulse_amplitude_index", r.sfloat("pulse amplitude index"), "%");
    }
    return reading;
  }

  function plxSpotCheck(data) {
    var r = new Reader(data, "PLX spot-check measurement");
    var flags = r.uint(1, "flags");
    var values = {};
    spo2Pair(r, values, "");
    var time = flags & 0x01 ? r.dateTime("time stamp") : null;
    var reading = plxTail(r, flags, 0x02, { kind: "plx_spot_check", time: time && isoText(time), values: values });
    reading.clock_not_set = Boolean(flags & 0x10);
    return reading;
  }

  function plxContinuous(data) {
    var r = new Reader(data, "PLX continuous measurement");
    var flags = r.uint(1, "flags");
    var values = {};
    spo2Pair(r, values, "");
    if (flags & 0x01) {
      spo2Pair(r, values, "_fast");
    }
    if (flags & 0x02) {
      spo2Pair(r, values, "_slow");
    }
    return plxTail(r, flags, 0x04, { kind: "plx_continuous", time: null, values: values });
  }

  function weight(data) {
    var r = new Reader(data, "weight measurement");
    var flags = r.uint(1, "flags");
    var imperial = Boolean(flags & 0x01);
    var raw = r.uint(2, "weight");
    // 0.005 kg or 0.01 lb steps, exact; 0xFFFF: measurement unsuccessful.
    var num = raw === 0xffff ? number(0, 0, "NaN") : imperial ? number(raw, -2) : number(raw * 5, -3);
    var values = { weight: quantity("weight", num, imperial ? "[lb_av]" : "kg") };
    var time = flags & 0x02 ? r.dateTime("time stamp") : null;
    var user = flags & 0x04 ? r.uint(1, "user id") : null;
    if (flags & 0x08) {
      values.bmi = quantity("bmi", number(r.uint(2, "BMI"), -1), "kg/m2");
      var height = r.uint(2, "height");
      values.height = imperial
        ? quantity("height", number(height, -1), "[in_i]")
        : quantity("height", number(height, -3), "m");
    }
    return { kind: "weight", time: time && isoText(time), values: values, user: user };
  }

  var GLUCOSE_SAMPLE_TYPES = {
    1: "capillary_whole_blood", 2: "capillary_plasma", 3: "venous_whole_blood", 4: "venous_plasma",
    5: "arterial_whole_blood", 6: "arterial_plasma", 7: "undetermined_whole_blood",
    8: "undetermined_plasma", 9: "interstitial_fluid", 10: "control_solution"
  };
  var GLUCOSE_LOCATIONS = {
    1: "finger", 2: "alternate_site_test", 3: "earlobe", 4: "control_solution", 15: "not_available"
  };
  var GLUCOSE_SENSOR_STATUS = {
    0: "battery_low", 1: "sensor_malfunction", 2: "sample_size_insufficient", 3: "strip_insertion_error",
    4: "strip_type_incorrect", 5: "result_too_high", 6: "result_too_low", 7: "temperature_too_high",
    8: "temperature_too_low", 9: "read_interrupted", 10: "device_fault", 11: "time_fault"
  };

  function glucose(data) {
    var r = new Reader(data, "glucose measurement");
    var flags = r.uint(1, "flags");
    var reading = { kind: "glucose", sequence: r.uint(2, "sequence number") };
    var time = r.dateTime("base time");
    var offset = flags & 0x01 ? r.sint(2, "time offset") : null;
    if (time && offset !== null) {
      time = new Date(time.getTime() + offset * 60000);
    }
    reading.time = time && isoText(time);
    reading.time_offset = offset;
    reading.values = {};
    reading.sample_type = null;
    reading.sample_location = null;
    if (flags & 0x02) {
      var unit = flags & 0x04 ? "mol/L" : "kg/L";
      reading.values.glucose = quantity("glucose", r.sfloat("glucose concentration"), unit);
      var typeLocation = r.uint(1, "type and sample location");
      reading.sample_type = GLUCOSE_SAMPLE_TYPES[typeLocation & 0x0f] || "reserved";
      reading.sample_location = GLUCOSE_LOCATIONS[typeLocation >> 4] || "reserved";
    }
    reading.status = flags & 0x08 ? bits(r.uint(2, "sensor status"), GLUCOSE_SENSOR_STATUS) : null;
    reading.context_follows = Boolean(flags & 0x10);
    return reading;
  }

  // A value shown with its unit, never recorded (no code of the record's).
  function amount(num, unit) {
    return { value: num.text, unit: unit, number: num.number, special: num.special };
  }

  // A parsed quantity, shown only: its codes dropped.
  function shownOf(q) {
    return { value: q.value, unit: q.unit, number: q.number, special: q.special };
  }

  function intermediateCuffPressure(data) {
    // The Blood Pressure Measurement's layout, the cuff's pressure in the systolic field.
    var full = bloodPressure(data);
    var values = { cuff_pressure: shownOf(full.values.systolic) };
    if (full.values.pulse_rate) {
      values.pulse_rate = full.values.pulse_rate;
    }
    return { kind: "intermediate_cuff_pressure", time: full.time, values: values, user: full.user,
      status: full.status };
  }

  function intermediateTemperature(data) {
    var full = temperature(data);
    var value = full.values.temperature;
    return { kind: "intermediate_temperature", time: full.time,
      values: { temperature: shownOf(value) }, site: full.site };
  }

  var GLUCOSE_CARBOHYDRATES = {
    1: "breakfast", 2: "lunch", 3: "dinner", 4: "snack", 5: "drink", 6: "supper", 7: "brunch"
  };
  var GLUCOSE_MEALS = { 1: "preprandial", 2: "postprandial", 3: "fasting", 4: "casual", 5: "bedtime" };
  var GLUCOSE_TESTERS = { 1: "self", 2: "health_care_professional", 3: "lab_test", 15: "not_available" };
  var GLUCOSE_HEALTH = {
    1: "minor_health_issues", 2: "major_health_issues", 3: "during_menses", 4: "under_stress",
    5: "no_health_issues", 15: "not_available"
  };
  var GLUCOSE_MEDICATIONS = {
    1: "rapid_acting_insulin", 2: "short_acting_insulin", 3: "intermediate_acting_insulin",
    4: "long_acting_insulin", 5: "pre_mixed_insulin"
  };

  function glucoseContext(data) {
    var r = new Reader(data, "glucose measurement context");
    var flags = r.uint(1, "flags");
    var reading = { kind: "glucose_context", time: null, sequence: r.uint(2, "sequence number"),
      values: {}, carbohydrate: null, meal: null, tester: null, health: null,
      exercise_seconds: null, exercise_intensity: null, medication: null };
    if (flags & 0x80) {
      r.uint(1, "extended flags");  // reserved bits: read and ignored
    }
    if (flags & 0x01) {
      reading.carbohydrate = GLUCOSE_CARBOHYDRATES[r.uint(1, "carbohydrate id")] || "reserved";
      reading.values.carbohydrate = amount(r.sfloat("carbohydrate"), "kg");
    }
    if (flags & 0x02) {
      reading.meal = GLUCOSE_MEALS[r.uint(1, "meal")] || "reserved";
    }
    if (flags & 0x04) {
      var both = r.uint(1, "tester and health");
      reading.tester = GLUCOSE_TESTERS[both & 0x0f] || "reserved";
      reading.health = GLUCOSE_HEALTH[both >> 4] || "reserved";
    }
    if (flags & 0x08) {
      reading.exercise_seconds = r.uint(2, "exercise duration");
      reading.exercise_intensity = r.uint(1, "exercise intensity");
    }
    if (flags & 0x10) {
      reading.medication = GLUCOSE_MEDICATIONS[r.uint(1, "medication id")] || "reserved";
      reading.values.medication = amount(r.sfloat("medication"), flags & 0x20 ? "L" : "kg");
    }
    if (flags & 0x40) {
      reading.values.hba1c = amount(r.sfloat("HbA1c"), "%");
    }
    return reading;
  }

  var PARSERS = {
    0x2a35: bloodPressure,
    0x2a1c: temperature,
    0x2a5e: plxSpotCheck,
    0x2a5f: plxContinuous,
    0x2a9d: weight,
    0x2a18: glucose,
    0x2a36: intermediateCuffPressure,
    0x2a1e: intermediateTemperature,
    0x2a34: glucoseContext
  };

  // A characteristic as a number: 0x2A35, "2a35", or the full UUID Web Bluetooth gives.
  function shortUuid(characteristic) {
    if (typeof characteristic === "number") {
      return characteristic;
    }
    var text = String(characteristic).toLowerCase();
    return parseInt(text.length === 36 ? text.slice(4, 8) : text, 16);
  }

  function parse(characteristic, data) {
    var uuid = shortUuid(characteristic);
    var parser = PARSERS[uuid];
    if (!parser) {
      throw new MalformedPacket("unknown_characteristic", "characteristic " + characteristic + " is not read");
    }
    var reading = parser(data);
    reading.characteristic = uuid;
    return reading;
  }

  // --- Web Bluetooth ------------------------------------------------------

  function available() {
    return Boolean(navigator.bluetooth && navigator.bluetooth.requestDevice);
  }

  // The common path of every notification, real or simulated.
  // Also told to the page as document events "maillage:bluetooth-reading" (detail: the
  // reading) and "maillage:bluetooth-error" (detail: the MalformedPacket), as realtime.js does.
  function receive(characteristic, value, handlers, device) {
    var reading;
    handlers = handlers || {};
    try {
      reading = parse(characteristic, value);
    } catch (error) {
      if (!(error instanceof MalformedPacket)) {
        throw error;
      }
      document.dispatchEvent(new CustomEvent("maillage:bluetooth-error", { detail: error }));
      if (handlers.onError) {
        handlers.onError(error);
      }
      return null;
    }
    reading.device = device || null;
    reading.receivedAt = new Date().toISOString();
    // The device's own bytes, for the server to parse again (bluetooth.parse_sent).
    reading.bytes = hexOf(value);
    if (SHOWN_ONLY.indexOf(reading.characteristic) >= 0) {
      // The cuff inflating, the thermometer settling, a glucose value's context: for the
      // page to show, never a reading to send ("maillage:bluetooth-progress", onProgress).
      document.dispatchEvent(new CustomEvent("maillage:bluetooth-progress", { detail: reading }));
      if (handlers.onProgress) {
        handlers.onProgress(reading);
      }
      return reading;
    }
    document.dispatchEvent(new CustomEvent("maillage:bluetooth-reading", { detail: reading }));
    if (handlers.onReading) {
      handlers.onReading(reading);
    }
    return reading;
  }

  function hexOf(data) {
    return Array.prototype.map.call(bytesOf(data), function (b) { return pad(b.toString(16), 2); }).join("");
  }

  function readText(service, uuid) {
    return service.getCharacteristic(uuid)
      .then(function (c) { return c.readValue(); })
      .then(function (v) { return trimEnd(new TextDecoder().decode(bytesOf(v)), "\0") || null; })
      .catch(function () { return null; });
  }

  function readSystemId(service) {
    // 8 bytes little-endian: shown as the EUI-64 in the usual order (most significant first).
    return service.getCharacteristic(SYSTEM_ID)
      .then(function (c) { return c.readValue(); })
      .then(function (v) {
        return Array.prototype.map.call(bytesOf(v), function (b) { return pad(b.toString(16), 2); })
          .reverse().join("").toUpperCase();
      })
      .catch(function () { return null; });
  }

  function describe(device, server) {
    var info = { id: device.id, name: device.name || null, manufacturer: null, model: null, systemId: null };
    return server.getPrimaryService(DEVICE_INFORMATION)
      .then(function (service) {
        return Promise.all([
          readText(service, MANUFACTURER_NAME), readText(service, MODEL_NUMBER), readSystemId(service)
        ]);
      })
      .then(function (found) {
        info.manufacturer = found[0];
        info.model = found[1];
        info.systemId = found[2];
        return info;
      })
      .catch(function () { return info; });
  }

  function subscribe(service, uuid, handlers, info) {
    return service.getCharacteristic(uuid).then(function (characteristic) {
      characteristic.addEventListener("characteristicvaluechanged", function (event) {
        receive(uuid, event.target.value, handlers, info);
      });
      return characteristic.startNotifications();
    });
  }

  function askGlucoseRecords(service) {
    // A glucose meter sends measurements when asked through its Record Access Control
    // Point: "report stored records" (1), "last record" (6). Some meters want pairing first.
    return service.getCharacteristic(RECORD_ACCESS_CONTROL_POINT).then(function (racp) {
      return racp.startNotifications().then(function () {
        return racp.writeValue(new Uint8Array([0x01, 0x06]));
      });
    });
  }

  function connect(kind, handlers, options) {
    var serviceUuid = SERVICES[kind];
    if (!serviceUuid) {
      return Promise.reject(new Error("unknown device kind: " + kind));
    }
    if (!available()) {
      return Promise.reject(new Error("no Web Bluetooth in this browser"));
    }
    handlers = handlers || {};
    var device, server, info;
    // Some devices do not advertise their service: anyDevice lists every device around.
    var request = options && options.anyDevice
      ? { acceptAllDevices: true, optionalServices: [serviceUuid, DEVICE_INFORMATION] }
      : { filters: [{ services: [serviceUuid] }], optionalServices: [DEVICE_INFORMATION] };
    return navigator.bluetooth.requestDevice(request).then(function (chosen) {
      device = chosen;
      device.addEventListener("gattserverdisconnected", function () {
        if (handlers.onDisconnect) {
          handlers.onDisconnect();
        }
      });
      return device.gatt.connect();
    }).then(function (connected) {
      server = connected;
      return describe(device, server);
    }).then(function (described) {
      info = described;
      return server.getPrimaryService(serviceUuid);
    }).then(function (service) {
      // The pulse oximeter may offer the continuous measurement, the spot-check or both.
      var started = MEASUREMENTS[kind].map(function (uuid) {
        return subscribe(service, uuid, handlers, info).then(
          function () { return true; },
          function () { return false; }
        );
      });
      return Promise.all(started).then(function (ok) {
        if (ok.indexOf(true) < 0) {
          throw new Error("the device offers no measurement to follow");
        }
        return kind === "glucose" ? askGlucoseRecords(service) : null;
      });
    }).then(function () {
      return {
        device: info,
        disconnect: function () {
          if (device.gatt.connected) {
            device.gatt.disconnect();
          }
        }
      };
    });
  }

  window.MaillageBluetooth = {
    SERVICES: SERVICES,
    MEASUREMENTS: MEASUREMENTS,
    SHOWN_ONLY: SHOWN_ONLY,
    CODES: CODES,
    MalformedPacket: MalformedPacket,
    decodeSfloat: decodeSfloat,
    decodeFloat: decodeFloat,
    parse: parse,
    receive: receive,
    available: available,
    connect: connect
  };
})();
