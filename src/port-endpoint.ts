// comlink over a node:worker_threads MessagePort. Not the port itself: comlink would listen with
// addEventListener, and Node builds every such message's MessageEvent from its bundled undici, which
// each thread then loads and compiles on its first message (~35 ms per thread on this machine,
// measured with a bare MessageChannel; docs/startup.md). port.on('message') hands over the data
// directly. (comlink ships the same adapter as dist/esm/node-adapter.mjs, without types for it.)
// Importing this module also makes comlink carry error codes in this thread (errors.ts says why):
// a RunsdError thrown by an exposed method rejects the caller's promise with a RunsdError of the
// same code and message (test/workers/token/room.test.ts, "facts() with the metadata server down").
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import * as Comlink from 'comlink';
import { fromWire, isWireError, RunsdError } from './errors.ts';

/** comlink's wire form of a thrown value: an Error as {message, name, stack} (+ code here), else as is. */
type Thrown = { isError: boolean; value: unknown };
const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, Thrown>;
Comlink.transferHandlers.set('throw', {
  canHandle: base.canHandle,
  serialize(thrown) {
    const [wire, transfer] = base.serialize(thrown);
    if (thrown.value instanceof RunsdError && wire.isError)
      wire.value = { ...(wire.value as object), code: thrown.value.code };
    return [wire, transfer];
  },
  deserialize(wire) {
    if (wire.isError && isWireError(wire.value) && wire.value.code.startsWith('RUNSD_'))
      throw fromWire(wire.value);
    return base.deserialize(wire);
  },
} satisfies Comlink.TransferHandler<{ value: unknown }, Thrown>);

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function portEndpoint(port: MessagePort): Endpoint {
  const wrapped = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message, transfer) => port.postMessage(message, transfer as never),
    addEventListener: (_type, listener) => {
      const on = (data: unknown) => {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      wrapped.set(listener, on);
      port.on('message', on);
    },
    removeEventListener: (_type, listener) => {
      const on = wrapped.get(listener);
      if (on) port.off('message', on);
      wrapped.delete(listener);
    },
    start: () => port.start(),
  };
}
