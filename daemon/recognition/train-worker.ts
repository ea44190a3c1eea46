import { parentPort } from 'node:worker_threads';
import { HubTrainer } from './hub-trainer.js';
import { handleTrainerCall, type TrainerRequest } from './trainer-protocol.js';

/**
 * Worker-thread entry for training on the hub (trainer-port.ts starts it): runs HubTrainer's steps as the
 * daemon's thread sends them, so features and forest never stall ingest, acknowledgements or the API.
 */
const port = parentPort;
if (port) {
  let trainer: HubTrainer | undefined;
  port.on('message', (request: TrainerRequest) => {
    const reply = handleTrainerCall(request, () => trainer, (created) => (trainer = created));
    port.postMessage(reply.message, reply.transfer);
  });
  port.postMessage({ id: 0, ok: true, value: 'ready' });
}
