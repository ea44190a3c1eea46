import { ago, bytes, count, duration, fillFacts } from './format.js';

const COMPONENTS = ['store', 'mqtt', 'serial', 'ble', 'sync', 'model'];

/** /health: the pill in the top bar and one line per component. */
export function renderHealth(pill, dl, health) {
  if (!health) {
    pill.dataset.state = 'down';
    pill.textContent = 'hub unreachable';
    return;
  }
  pill.dataset.state = health.status;
  pill.textContent = health.status;
  const rows = [['version', `${health.version}, up ${duration(health.uptimeS)}`]];
  for (const name of COMPONENTS) {
    const c = health.components?.[name];
    if (!c) continue;
    const extra = name === 'store' ? `${count(c.readings)} readings, ${bytes(c.bytes)}` : name === 'model' && c.version ? c.version : '';
    rows.push([name, [c.state, extra, c.detail].filter(Boolean).join(' · '), c.state]);
  }
  fillFacts(dl, rows);
}

/** RSSI of connected BLE devices, from /health's ble component (the only transport with a signal figure). */
export function rssiByDevice(health) {
  const map = new Map();
  for (const link of health?.components?.ble?.devices ?? []) {
    if (link.deviceId && typeof link.rssi === 'number') map.set(link.deviceId, link.rssi);
  }
  return map;
}

/** GET /api/v1/sync (the backlog waiting for the cloud); `null` when this hub has no sync route. */
export function renderSync(dl, button, sync) {
  if (!sync) {
    fillFacts(dl, [['status', 'not available on this hub']]);
    button.hidden = true;
    return;
  }
  const rows = [['state', sync.state, sync.state === 'idle' || sync.state === 'syncing' ? 'ok' : sync.state === 'off' ? undefined : 'error']];
  if (sync.target) rows.push(['to', sync.target]);
  rows.push(['waiting', `${count(sync.pendingSessions)} sessions, ${count(sync.pendingReadings)} readings`]);
  if (sync.oldestUnsyncedAt) rows.push(['oldest waiting', ago(sync.oldestUnsyncedAt)]);
  rows.push(['last success', ago(sync.lastSuccessAt)]);
  if (sync.lastError) rows.push(['last error', `${sync.lastError.message} (${ago(sync.lastError.at)})`, 'error']);
  if (sync.nextAttemptAt) rows.push(['next try', until(sync.nextAttemptAt)]);
  rows.push(['uploaded', `${count(sync.uploadedSessions)} sessions, ${count(sync.uploadedReadings)} readings since start`]);
  fillFacts(dl, rows);
  button.hidden = sync.state === 'off';
}

function until(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  return s <= 1 ? 'now' : `in ${duration(s)}`;
}
