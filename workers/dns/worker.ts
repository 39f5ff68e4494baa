// Entry of the dns room. Placeholder until the room is built: it only completes the READY handshake.
import { runRoom } from '../../src/room.ts';

await runRoom(async () => ({ info: {}, close: async () => {} }));
