/**
 * The selected device's acceleration and rotation as two uPlot charts over the last few seconds. Samples live
 * in fixed typed arrays (SampleWindow), so the page's memory does not grow however long it stays open.
 */

/** Also in dashboard.css (.key.x/y/z), the charts' legend. */
export const SERIES_COLORS = ['#e4572e', '#17a398', '#6f5cc2'];
const CHART_HEIGHT_PX = 150;
const AXIS_LABELS = ['x', 'y', 'z'];

/** Column-wise samples [x, ...values] in preallocated Float64Arrays, oldest first, at most `capacity`. */
export class SampleWindow {
  constructor(capacity, columns) {
    this.capacity = capacity;
    this.cols = Array.from({ length: columns }, () => new Float64Array(capacity));
    this.length = 0;
  }

  /** Adds one row; rows not after the last one are ignored (uPlot needs x ascending). */
  push(row) {
    if (this.length > 0 && row[0] <= this.cols[0][this.length - 1]) return;
    if (this.length === this.capacity) this.drop(1);
    for (let c = 0; c < this.cols.length; c++) this.cols[c][this.length] = row[c];
    this.length++;
  }

  dropBefore(x) {
    let k = 0;
    while (k < this.length && this.cols[0][k] < x) k++;
    if (k > 0) this.drop(k);
  }

  drop(k) {
    for (const col of this.cols) col.copyWithin(0, k, this.length);
    this.length -= k;
  }

  /** Views (no copies) of the given columns. */
  view(columns) {
    return columns.map((c) => this.cols[c].subarray(0, this.length));
  }

  last() {
    return this.length > 0 ? this.cols[0][this.length - 1] : undefined;
  }

  clear() {
    this.length = 0;
  }
}

const clockFormat = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** Time of day to the second: the window is a few seconds, so uPlot's date line would only take room. */
function clockSeconds(s) {
  return clockFormat.format(s * 1000);
}

function makePlot(element, columns, samples) {
  const style = getComputedStyle(document.documentElement);
  const axis = { stroke: style.getPropertyValue('--muted').trim(), grid: { stroke: style.getPropertyValue('--line').trim(), width: 1 }, ticks: { show: false } };
  const plot = new globalThis.uPlot({
    width: Math.max(200, element.clientWidth),
    height: CHART_HEIGHT_PX,
    cursor: { show: false },
    legend: { show: false },
    scales: { x: { time: true } },
    series: [{}, ...AXIS_LABELS.map((label, i) => ({ label, stroke: SERIES_COLORS[i], width: 1.5, points: { show: false } }))],
    axes: [{ ...axis, size: 30, space: 60, values: (_u, splits) => splits.map(clockSeconds) }, { ...axis, size: 46 }],
  }, samples.view(columns), element);
  return { element, columns, plot };
}

export class LiveCharts {
  /**
   * @param {{ accel: HTMLElement, gyro: HTMLElement, windowS: number, maxHz: number }} options
   */
  constructor({ accel, gyro, windowS, maxHz }) {
    this.windowS = windowS;
    // Headroom over windowS * maxHz: a burst after a stall still fits; the oldest rows go first.
    this.samples = new SampleWindow(Math.ceil(windowS * maxHz * 2), 7);
    this.plots = [makePlot(accel, [0, 1, 2, 3], this.samples), makePlot(gyro, [0, 4, 5, 6], this.samples)];
    this.frame = 0;
    this.resizer = new ResizeObserver(() => {
      for (const { element, plot } of this.plots) plot.setSize({ width: Math.max(200, element.clientWidth), height: CHART_HEIGHT_PX });
    });
    for (const { element } of this.plots) this.resizer.observe(element);
  }

  /** Canonical readings of the selected device (ts in ms, accel m/s^2, gyro rad/s). */
  add(readings) {
    for (const r of readings) this.samples.push([r.ts / 1000, r.accel[0], r.accel[1], r.accel[2], r.gyro[0], r.gyro[1], r.gyro[2]]);
    this.schedule();
  }

  clear() {
    this.samples.clear();
    this.schedule();
  }

  /** Draws at most once a frame, and not at all while the tab is hidden (the browser pauses frames). */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const last = this.samples.last();
    if (last !== undefined) this.samples.dropBefore(last - this.windowS);
    for (const { element, columns, plot } of this.plots) {
      plot.setData(this.samples.view(columns));
      element.dataset.points = String(this.samples.length);
    }
  }
}
