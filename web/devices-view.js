import { ago, count, percent } from './format.js';

const FIELDS = [
  ['transport', 'via'],
  ['signal', 'signal'],
  ['battery', 'battery'],
  ['rate', 'rate'],
  ['drops', 'drops'],
  ['seen', 'seen'],
];
/** A device silent for longer than this shows as offline even when it never said so. */
const SILENT_AFTER_MS = 15_000;

/** Rows keyed by deviceId and reused between updates, so a long-open page does not churn the DOM. */
export class DeviceList {
  constructor(list, empty, onSelect) {
    this.list = list;
    this.empty = empty;
    this.onSelect = onSelect;
    this.rows = new Map();
  }

  /**
   * @param {any[]} devices GET /api/v1/devices items
   * @param {{ selected: string | null, rssi: Map<string, number>, live: Map<string, { label?: string, confidence?: number, reps?: number }> }} extras
   */
  update(devices, { selected, rssi, live }) {
    const now = Date.now();
    const seen = new Set();
    devices.forEach((device, index) => {
      seen.add(device.deviceId);
      const row = this.rows.get(device.deviceId) ?? this.create(device.deviceId);
      if (this.list.children[index] !== row.item) this.list.insertBefore(row.item, this.list.children[index] ?? null);
      const signal = rssi.get(device.deviceId);
      const values = {
        transport: device.transport ?? '—',
        signal: typeof signal === 'number' ? `${signal} dBm` : '—',
        battery: typeof device.battery === 'number' ? `${Math.round(device.battery)}%` : '—',
        rate: `${Math.round(device.rate)}/s${device.hz ? ` of ${device.hz}` : ''}`,
        drops: count(device.dropped),
        seen: ago(device.lastSeen, now),
      };
      for (const [key] of FIELDS) setText(row.fields[key], values[key]);
      row.fields.drops.parentElement.title = `dropped ${device.dropped}, duplicates ${device.duplicates}, rejected ${device.rejected}`;
      const state = live.get(device.deviceId);
      setText(row.exercise, state?.label ? `${state.label} ${percent(state.confidence)} · ${state.reps ?? 0} reps` : '');
      row.button.dataset.online = String(device.online !== false && device.lastSeen !== null && now - device.lastSeen < SILENT_AFTER_MS);
      row.button.setAttribute('aria-pressed', String(device.deviceId === selected));
    });
    for (const [deviceId, row] of this.rows) {
      if (seen.has(deviceId)) continue;
      row.item.remove();
      this.rows.delete(deviceId);
    }
    this.empty.hidden = devices.length > 0;
  }

  create(deviceId) {
    const item = document.createElement('li');
    item.dataset.deviceId = deviceId;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'device';
    button.addEventListener('click', () => this.onSelect(deviceId));
    const name = document.createElement('span');
    name.className = 'name';
    const id = document.createElement('span');
    id.textContent = deviceId;
    const exercise = document.createElement('span');
    exercise.className = 'exercise';
    name.append(id, exercise);
    button.append(name);
    const fields = {};
    for (const [key, label] of FIELDS) {
      const field = document.createElement('span');
      field.className = 'field';
      const value = document.createElement('b');
      value.dataset.field = key;
      field.append(`${label} `, value);
      button.append(field);
      fields[key] = value;
    }
    item.append(button);
    const row = { item, button, exercise, fields };
    this.rows.set(deviceId, row);
    return row;
  }
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
