// Where the emulator's gRPC service definition lives (kept apart so importing the path does not
// load protobufjs).
import { fileURLToPath } from 'node:url';

export const ECHO_PROTO_PATH = fileURLToPath(new URL('./echo.proto', import.meta.url));

/** gRPC requests are recognised by content type (the front end routes them before auth answers). */
export function isGrpc(headers: { 'content-type'?: string | string[] | undefined }): boolean {
  return String(headers['content-type'] ?? '').startsWith('application/grpc');
}
