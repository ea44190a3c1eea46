/**
 * The hub dashboard: the LAN API's first client. It polls the slow-changing lists (devices, health, sync), takes
 * everything that happens (predictions, reps, sessions, device status) from one WebSocket, and the selected
 * device's readings, decimated by the hub, from a second one.
 */
import { ApiError, createApi, getPublic } from './api.js';
import { LiveCharts } from './chart.js';
import { DeviceList } from './devices-view.js';
import { percent } from './format.js';
import { RECENT_ENDED_MAX, renderExerciseChoices, SessionList } from './sessions-view.js';
import { renderHealth, renderSync, rssiByDevice } from './status-view.js';
import { openStream } from './stream.js';

const TOKEN_KEY = 'gymhub.token';
const DEVICE_KEY = 'gymhub.device';
/** What the chart needs to look smooth; the hub decimates to this, so a 200 Hz device costs the page no more. */
const CHART_READINGS_HZ = 25;
const CHART_WINDOW_S = 10;
const POLL_DEVICES_MS = 3000;
const POLL_HEALTH_MS = 5000;
const POLL_SYNC_MS = 10_000;
const POLL_SESSIONS_MS = 30_000;
const MESSAGE_SHOWN_MS = 6000;
const RECONNECT_MS = 5000;
/** Sync progress can come many times a second while uploading: the panel refreshes at most this often. */
const SYNC_REFRESH_MIN_MS = 2000;
const NOT_EXERCISES = new Set(['rest', 'unknown']);

const $ = (id) => document.getElementById(id);
const state = {
  devices: [],
  selected: localStorage.getItem(DEVICE_KEY),
  live: new Map(),
  sessions: new Map(),
  rssi: new Map(),
  features: { sync: false },
  connected: false,
};
const api = createApi({ token: () => localStorage.getItem(TOKEN_KEY), onUnauthorized: () => disconnect('The hub did not accept the token: enter it again.') });
const charts = new LiveCharts({ accel: $('chart-accel'), gyro: $('chart-gyro'), windowS: CHART_WINDOW_S, maxHz: CHART_READINGS_HZ });
const deviceList = new DeviceList($('device-list'), $('devices-empty'), select);
const sessionList = new SessionList({
  list: $('session-list'),
  empty: $('sessions-empty'),
  onLabel: (id, label) => act(() => api.patch(`/api/v1/sessions/${id}`, { label }), 'label saved'),
  onEnd: (id) => act(() => api.patch(`/api/v1/sessions/${id}`, { end: true }), 'session ended'),
});
/** Aborted on disconnect: stops this connection's polls. */
let connection;
let events;
let readings;
let messageTimer;
let retryTimer;
let syncTimer;
let renderFrame = 0;

function showMessage(text, kind = 'info') {
  const box = $('message');
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind === 'info') messageTimer = setTimeout(() => (box.hidden = true), MESSAGE_SHOWN_MS);
}

/** Runs an API action from a button; its answer (a session) goes straight into the view. */
async function act(call, done) {
  try {
    const session = await call();
    if (session?.id) upsertSession(session);
    showMessage(done);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showMessage(err instanceof ApiError ? err.message : 'the hub cannot be reached', 'error');
  }
}

/** Polls while the page is visible (a hidden tab costs the hub nothing), until the signal aborts. */
function every(ms, task, signal) {
  let timer;
  const run = async () => {
    if (signal?.aborted) return;
    if (!document.hidden) await task().catch(() => undefined);
    // Each poll adds a resource timing entry; nothing reads them, and the page may stay open for months.
    performance.clearResourceTimings();
    if (!signal?.aborted) timer = setTimeout(run, ms);
  };
  signal?.addEventListener('abort', () => clearTimeout(timer));
  void run();
}

function scheduleRender() {
  if (renderFrame) return;
  renderFrame = requestAnimationFrame(() => {
    renderFrame = 0;
    render();
  });
}

function render() {
  deviceList.update(state.devices, state);
  sessionList.update([...state.sessions.values()].sort((a, b) => b.startedAt - a.startedAt));
  const live = state.live.get(state.selected);
  $('live-device').textContent = state.selected ?? 'select a device';
  $('exercise-label').textContent = live?.label ?? '—';
  $('exercise-label').dataset.exercise = String(live?.label !== undefined && !NOT_EXERCISES.has(live.label));
  $('exercise-confidence').textContent = live?.label ? percent(live.confidence) : '';
  $('rep-count').textContent = String(live?.reps ?? 0);
  $('device-count').textContent = state.devices.length ? `(${state.devices.length})` : '';
  renderSessionDevices();
}

function renderSessionDevices() {
  const picker = $('session-device');
  const ids = state.devices.map((d) => d.deviceId);
  if ([...picker.options].map((o) => o.value).join() !== ids.join()) {
    const keep = picker.value || state.selected;
    picker.replaceChildren(...ids.map((id) => new Option(id, id)));
    picker.value = ids.includes(keep) ? keep : (state.selected ?? ids[0] ?? '');
  }
  $('session-start').disabled = ids.length === 0 || !state.connected;
}

function select(deviceId) {
  if (deviceId === state.selected && readings) return;
  state.selected = deviceId;
  localStorage.setItem(DEVICE_KEY, deviceId);
  $('session-device').value = deviceId;
  charts.clear();
  readings?.close();
  readings = openStream({
    query: { deviceId, topics: 'readings', readingsHz: String(CHART_READINGS_HZ) },
    token: () => localStorage.getItem(TOKEN_KEY),
    onMessage: (m) => m.type === 'readings' && m.deviceId === state.selected && charts.add(m.items),
  });
  scheduleRender();
}

function liveOf(deviceId) {
  let live = state.live.get(deviceId);
  if (!live) state.live.set(deviceId, (live = {}));
  return live;
}

function upsertSession(session) {
  state.sessions.set(session.id, session);
  const ended = [...state.sessions.values()].filter((s) => s.status !== 'active').sort((a, b) => b.startedAt - a.startedAt);
  for (const old of ended.slice(RECENT_ENDED_MAX)) state.sessions.delete(old.id);
  scheduleRender();
}

function onEvent(m) {
  if (m.type === 'prediction') Object.assign(liveOf(m.deviceId), { label: m.label, confidence: m.confidence });
  else if (m.type === 'reps') liveOf(m.deviceId).reps = m.reps;
  else if (m.type === 'session') {
    if (m.event === 'deleted') state.sessions.delete(m.session.id);
    else upsertSession(m.session);
    if (m.event === 'started') liveOf(m.session.deviceId).reps = 0;
  } else if (m.type === 'sync') {
    syncTimer ??= setTimeout(() => {
      syncTimer = undefined;
      void refreshSync();
    }, SYNC_REFRESH_MIN_MS);
  } else if (m.type === 'device') {
    const device = state.devices.find((d) => d.deviceId === m.deviceId);
    if (!device) return void refreshDevices().catch(() => undefined);
    for (const key of ['battery', 'online', 'fw', 'hz']) if (m[key] !== undefined) device[key] = m[key];
  }
  scheduleRender();
}

async function refreshDevices() {
  state.devices = (await api.get('/api/v1/devices')).items;
  // Forget live state of devices the hub forgot, so the maps stay as small as the device list.
  const ids = new Set(state.devices.map((d) => d.deviceId));
  for (const id of state.live.keys()) if (!ids.has(id)) state.live.delete(id);
  const target = state.selected && ids.has(state.selected) ? state.selected : state.devices[0]?.deviceId;
  if (target && (target !== state.selected || !readings)) select(target);
  scheduleRender();
}

async function refreshHealth() {
  let health = null;
  try {
    health = await getPublic('/health');
  } catch {
    // shown as unreachable
  }
  renderHealth($('health-pill'), $('health-components'), health);
  state.rssi = rssiByDevice(health);
}

async function refreshSync() {
  // Ask the page's own server whether this hub has the route yet: a 404 would show in the console.
  if (!state.features.sync) state.features = await getPublic('/dashboard.json').catch(() => state.features);
  if (!state.features.sync) return renderSync($('sync-status'), $('sync-now'), null);
  try {
    renderSync($('sync-status'), $('sync-now'), await api.get('/api/v1/sync'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) state.features.sync = false;
    if (err instanceof ApiError && err.status !== 401) renderSync($('sync-status'), $('sync-now'), null);
  }
}

async function refreshSessions() {
  const [active, ended] = await Promise.all([
    api.get('/api/v1/sessions?status=active&limit=100'),
    api.get(`/api/v1/sessions?status=ended&limit=${RECENT_ENDED_MAX}`),
  ]);
  state.sessions = new Map([...active.items, ...ended.items].map((s) => [s.id, s]));
  for (const s of active.items) if (s.reps !== undefined) liveOf(s.deviceId).reps ??= s.reps;
  scheduleRender();
}

function setStreamState(text, pillState) {
  $('stream-state').dataset.state = pillState;
  $('stream-state').textContent = `live: ${text}`;
}

async function connect() {
  const info = await api.get('/api/v1/info');
  state.connected = true;
  if ($('message').dataset.kind === 'error') $('message').hidden = true;
  $('hub-id').textContent = info.hubId;
  renderExerciseChoices($('session-candidates'), $('exercise-names'), info.model.classes.filter((c) => !NOT_EXERCISES.has(c)));
  state.features = await getPublic('/dashboard.json').catch(() => state.features);
  events = openStream({
    // A hub with sync also streams its progress; one without would refuse the topic.
    query: { topics: `predictions,reps,devices,sessions${state.features.sync ? ',sync' : ''}` },
    token: () => localStorage.getItem(TOKEN_KEY),
    onMessage: onEvent,
    onState: (s, failures) => {
      setStreamState(s === 'open' ? 'on' : s === 'connecting' ? 'connecting' : 'reconnecting', s);
      // A refused handshake looks like any closed socket: ask the API whether the token still holds.
      if (s === 'closed' && failures >= 2) api.get('/api/v1/info').catch(() => undefined);
    },
  });
  connection = new AbortController();
  every(POLL_DEVICES_MS, refreshDevices, connection.signal);
  every(POLL_SYNC_MS, refreshSync, connection.signal);
  every(POLL_SESSIONS_MS, refreshSessions, connection.signal);
}

/** Connects, and keeps trying while the hub cannot be reached (it may be restarting); a 401 asks for the token. */
function start() {
  clearTimeout(retryTimer);
  connect().catch((err) => {
    if (err instanceof ApiError && err.status === 401) return;
    showMessage('the hub cannot be reached; trying again', 'error');
    retryTimer = setTimeout(start, RECONNECT_MS);
  });
}

/** Closes the streams and stops the polls of the current connection. */
function stop() {
  clearTimeout(retryTimer);
  state.connected = false;
  events?.close();
  readings?.close();
  events = readings = undefined;
  connection?.abort();
  setStreamState('off', 'closed');
}

/** The hub refused the token: forget it and ask again. */
function disconnect(reason) {
  stop();
  localStorage.removeItem(TOKEN_KEY);
  askToken(reason);
}

function askToken(reason) {
  $('token-error').textContent = reason ?? '';
  $('token-error').hidden = !reason;
  if (!$('token-dialog').open) $('token-dialog').showModal();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  stop();
  localStorage.setItem(TOKEN_KEY, $('token-input').value.trim());
  $('token-input').value = '';
  $('token-dialog').close();
  start();
});
// Without a token the page has nothing to show: Escape dismisses the question only while connected.
$('token-dialog').addEventListener('cancel', (event) => !state.connected && event.preventDefault());
$('token-change').addEventListener('click', () => askToken());
$('session-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const candidates = [...$('session-candidates').querySelectorAll('input:checked')].map((box) => box.value);
  const body = { deviceId: $('session-device').value, ...(candidates.length > 0 && { candidates }) };
  void act(() => api.post('/api/v1/sessions', body), `session started on ${body.deviceId}`);
});
$('sync-now').addEventListener('click', () => act(() => api.post('/api/v1/sync?wait=false'), 'sync requested').then(refreshSync));
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.connected) void Promise.all([refreshDevices(), refreshHealth(), refreshSync()]).catch(() => undefined);
});

setStreamState('off', 'closed');
every(POLL_HEALTH_MS, refreshHealth);
if (localStorage.getItem(TOKEN_KEY)) start();
else askToken();
