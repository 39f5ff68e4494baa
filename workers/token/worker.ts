// Entry of the token room thread: mints, caches and refreshes ID tokens. The wiring is in room.ts.
import { runRoom } from '../../src/room.ts';
import { setupTokenRoom } from './room.ts';

void runRoom(setupTokenRoom);
