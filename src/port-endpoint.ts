// comlink over a node:worker_threads MessagePort. Not the port itself: comlink would listen with
// addEventListener, and Node builds every such message's MessageEvent from its bundled undici, which
// each thread then loads and compiles on its first message (~35 ms per thread on this machine,
// measured with a bare MessageChannel; docs/startup.md). port.on('message') hands over the data
// directly. (comlink ships the same adapter as dist/esm/node-adapter.mjs, without types for it.)
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

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
