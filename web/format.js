/** Small formatters shared by the views. */

export function ago(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 2) return 'now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function percent(fraction) {
  return typeof fraction === 'number' ? `${Math.round(fraction * 100)}%` : '';
}

export function bytes(n) {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en') : '—';
}

export function clockTime(ms) {
  return typeof ms === 'number' ? new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '—';
}

/** Fills a <dl> with [term, value, state?] rows, reusing its elements when the shape is unchanged. */
export function fillFacts(dl, rows) {
  if (dl.children.length !== rows.length * 2) {
    dl.replaceChildren(...rows.flatMap(() => [document.createElement('dt'), document.createElement('dd')]));
  }
  rows.forEach(([term, value, state], i) => {
    const dt = dl.children[i * 2];
    const dd = dl.children[i * 2 + 1];
    if (dt.textContent !== term) dt.textContent = term;
    if (dd.textContent !== value) dd.textContent = value;
    if (state) dd.dataset.state = state;
    else delete dd.dataset.state;
  });
}
