// The start-up handshake of a room, supervisor side: the room's first RoomStatus on parentPort
// settles it. READY gives the room's info; FAILED, an uncaught error, an exit or no status within
// the timeout reject with RUNSD_ROOM_BOOTSTRAP / RUNSD_ROOM_TIMEOUT and terminate the thread
// (test/supervisor/rooms.test.ts).
import type { Worker } from 'node:worker_threads';
import { RunsdError } from '../errors.ts';
import { isRoomStatus, type RoomInfo } from '../protocol.ts';

export function awaitReady(name: string, worker: Worker, timeoutMs: number): Promise<RoomInfo> {
  return new Promise((resolve, reject) => {
    const fail = (err: RunsdError) => {
      cleanup();
      void worker.terminate();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new RunsdError('RUNSD_ROOM_TIMEOUT', `room ${name} did not become ready within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    const onMessage = (m: unknown) => {
      if (!isRoomStatus(m)) return;
      if (m.type === 'ready') {
        cleanup();
        resolve(m.info);
      } else {
        fail(
          new RunsdError(
            'RUNSD_ROOM_BOOTSTRAP',
            `room ${name} failed to start: ${m.error.message} (${m.error.code})`,
          ),
        );
      }
    };
    const onError = (err: Error) =>
      fail(new RunsdError('RUNSD_ROOM_BOOTSTRAP', `room ${name} failed to start: ${err.message}`));
    const onExit = (code: number) =>
      fail(
        new RunsdError('RUNSD_ROOM_BOOTSTRAP', `room ${name} exited with code ${code} before it was ready`),
      );
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
