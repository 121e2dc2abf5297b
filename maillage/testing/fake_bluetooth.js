/*
 * A stand-in for the browser's Web Bluetooth, for tests: headless Chromium cannot
 * pair a device. One device offering the Device Information service (0x180A:
 * manufacturer, model, system id) and the measurement services it is given;
 * characteristics are EventTargets that fire "characteristicvaluechanged" as a real
 * one does, so bytes fed through notify() take the path of a real notification.
 *
 *   (config) => ...   config: {services: {"6160": [10805]}, id, name, manufacturer,
 *                              model, systemId: [8 bytes, little-endian]}
 *   window.fakeBluetooth.notify(0x1810, 0x2a35, [bytes...])
 *   window.fakeBluetooth.requests   // the options of each requestDevice()
 *   window.fakeBluetooth.writes     // [characteristic, [bytes]] of each writeValue()
 *   window.fakeBluetooth.disconnect()
 */
(config) => {
  const bytes = (list) => new DataView(new Uint8Array(list).buffer);
  const text = (s) => bytes(Array.from(new TextEncoder().encode(s)));
  const state = { requests: [], writes: [], services: {} };
  class Characteristic extends EventTarget {
    constructor(uuid, value) {
      super();
      this.uuid = uuid;
      this.value = value || null;
      this.notifying = false;
    }
    startNotifications() {
      this.notifying = true;
      return Promise.resolve(this);
    }
    readValue() {
      return Promise.resolve(this.value);
    }
    writeValue(data) {
      state.writes.push([this.uuid, Array.from(new Uint8Array(data.buffer || data))]);
      return Promise.resolve();
    }
  }
  state.services[0x180a] = {
    0x2a29: new Characteristic(0x2a29, text(config.manufacturer)),
    0x2a24: new Characteristic(0x2a24, text(config.model)),
    0x2a23: new Characteristic(0x2a23, bytes(config.systemId)),
  };
  for (const [service, characteristics] of Object.entries(config.services)) {
    state.services[service] = {};
    for (const c of characteristics) state.services[service][c] = new Characteristic(c);
  }
  const lookup = (table, uuid) => (table[uuid]
    ? Promise.resolve(table[uuid])
    : Promise.reject(new DOMException("not found", "NotFoundError")));
  const device = new EventTarget();
  device.id = config.id;
  device.name = config.name;
  device.gatt = {
    connected: false,
    connect() {
      this.connected = true;
      return Promise.resolve(this);
    },
    disconnect() {
      this.connected = false;
      device.dispatchEvent(new Event("gattserverdisconnected"));
    },
    getPrimaryService(uuid) {
      return lookup(state.services, uuid).then((chars) => ({
        getCharacteristic: (c) => lookup(chars, c),
      }));
    },
  };
  state.notify = (service, uuid, list) => {
    const characteristic = state.services[service][uuid];
    characteristic.value = bytes(list);
    characteristic.dispatchEvent(new Event("characteristicvaluechanged"));
    return characteristic.notifying;
  };
  state.disconnect = () => device.gatt.disconnect();
  window.fakeBluetooth = state;
  Object.defineProperty(navigator, "bluetooth", {
    configurable: true,
    value: {
      requestDevice(options) {
        state.requests.push(options);
        return Promise.resolve(device);
      },
    },
  });
}
