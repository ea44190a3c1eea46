import { backoffDelayMs, type Clock, type Timer } from '../../daemon/clock.js';
import type { AdapterState, BleBinding, Unsubscribe } from './ble-binding.js';
import { GATT_SERVICE_UUID } from './gatt-profile.js';

export const SCAN_RETRY_BASE_MS = 1_000;
export const SCAN_RETRY_MAX_MS = 60_000;

type SettledState = Exclude<AdapterState, 'unknown' | 'resetting'>;
const isSettled = (state: AdapterState): state is SettledState => state !== 'unknown' && state !== 'resetting';

/** What /health says for each adapter state but 'poweredOn'. */
export const ADAPTER_DETAILS: Record<Exclude<AdapterState, 'poweredOn'>, string> = {
  unsupported: 'no usable Bluetooth LE adapter (none present, no LE support, or no permission to open it)',
  unauthorized: 'not allowed to use the Bluetooth adapter (the service needs CAP_NET_RAW and CAP_NET_ADMIN)',
  poweredOff: 'Bluetooth adapter is powered off or absent',
  resetting: 'Bluetooth adapter is resetting',
  unknown: 'Bluetooth adapter state unknown',
};

export interface ScannerHooks {
  onPoweredOn(): void;
  /** The adapter is not usable; `wasOn` when it had been powered on (its connections are gone). */
  onUnavailable(detail: string, wasOn: boolean): void;
  onScanning(): void;
  onScanFailed(detail: string): void;
}

/** Follows the adapter's state and keeps a scan for the gymhub service running while it is powered on. */
export class AdapterScanner {
  poweredOn = false;
  scanning = false;
  private failures = 0;
  private retryTimer: Timer | undefined;
  private cancelWait: (() => void) | undefined;
  private closed = false;
  private readonly unsubscribe: Unsubscribe;

  constructor(
    private readonly binding: BleBinding,
    private readonly clock: Clock,
    private readonly hooks: ScannerHooks,
    private readonly random?: () => number,
  ) {
    this.unsubscribe = binding.onStateChange((state) => this.onState(state));
  }

  /**
   * Resolves once the adapter has said what it is (noble starts in 'unknown' and needs a moment), or after
   * `waitMs`, then reports that state through the hooks.
   */
  async settle(waitMs: number): Promise<void> {
    if (!isSettled(this.binding.state)) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          this.clock.clearTimeout(timer);
          off();
          this.cancelWait = undefined;
          resolve();
        };
        const timer = this.clock.setTimeout(finish, waitMs);
        const off = this.binding.onStateChange((state) => isSettled(state) && finish());
        this.cancelWait = finish;
      });
    }
    if (this.closed) return;
    const state = this.binding.state;
    if (isSettled(state)) this.onState(state);
    else this.hooks.onUnavailable(`${ADAPTER_DETAILS[state]}: not ready within ${waitMs} ms`, false);
  }

  /** Starts (or resumes) scanning; idempotent. Failures are retried with backoff. */
  scan(): void {
    if (this.closed || !this.poweredOn) return;
    this.clock.clearTimeout(this.retryTimer);
    this.binding.startScanning([GATT_SERVICE_UUID]).then(
      () => {
        if (this.closed || !this.poweredOn) return;
        this.scanning = true;
        this.failures = 0;
        this.hooks.onScanning();
      },
      (err: unknown) => {
        if (this.closed || !this.poweredOn) return;
        this.scanning = false;
        const delay = backoffDelayMs(this.failures++, SCAN_RETRY_BASE_MS, SCAN_RETRY_MAX_MS, this.random);
        this.hooks.onScanFailed(`scanning failed: ${err instanceof Error ? err.message : String(err)}; retrying in ${delay} ms`);
        this.retryTimer = this.clock.setTimeout(() => this.scan(), delay);
      },
    );
  }

  close(): void {
    this.closed = true;
    this.poweredOn = false;
    this.scanning = false;
    this.cancelWait?.();
    this.clock.clearTimeout(this.retryTimer);
    this.unsubscribe();
  }

  private onState(state: AdapterState): void {
    if (this.closed) return;
    if (state === 'poweredOn') {
      if (this.poweredOn) return;
      this.poweredOn = true;
      this.hooks.onPoweredOn();
      return;
    }
    // Before the first settled state, 'unknown' is just noble starting up; settle() reports it if it lasts.
    if (!isSettled(state) && !this.poweredOn) return;
    const wasOn = this.poweredOn;
    this.poweredOn = false;
    this.scanning = false;
    this.clock.clearTimeout(this.retryTimer);
    this.hooks.onUnavailable(ADAPTER_DETAILS[state], wasOn);
  }
}
