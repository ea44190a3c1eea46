import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EventBus, type HubEvents } from '../../daemon/event-bus.js';
import { SessionService } from '../../daemon/sessions/session-service.js';
import { openState, type HubState } from '../../daemon/state.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** The classes of a model trained on ../shared/data/barbell-imu. */
export const CLASSES = ['bicep_curl', 'dead', 'rdl', 'row', 'shoulder_press', 'squat'];

export interface SessionFixture {
  service: SessionService;
  clock: FakeClock;
  state: HubState;
  bus: EventBus;
  events: Array<HubEvents['session']>;
  dataDir: string;
  /** Closes the service and opens a new one on the same directory (a hub restart). */
  reopen(): Promise<SessionService>;
  close(): Promise<void>;
}

export async function openSessions(options: { clock?: FakeClock; classes?: () => readonly string[] } = {}): Promise<SessionFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-sessions-'));
  const clock = options.clock ?? new FakeClock();
  const log = pino({ level: 'silent' });
  const bus = new EventBus(log);
  const events: Array<HubEvents['session']> = [];
  bus.on('session', 'test', (event) => events.push(event));
  const state = await openState(dataDir, { clock });
  const make = () => new SessionService({
    dir: join(dataDir, 'sessions'),
    log,
    clock,
    bus,
    knownClasses: options.classes ?? (() => CLASSES),
    devices: state,
  });
  const fixture: SessionFixture = {
    service: make(),
    clock,
    state,
    bus,
    events,
    dataDir,
    async reopen() {
      await fixture.service.close();
      fixture.service = make();
      await fixture.service.open();
      return fixture.service;
    },
    async close() {
      await fixture.service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  await fixture.service.open();
  return fixture;
}
