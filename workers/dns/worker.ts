// Entry of the dns room thread: local answers for the internal zones, everything else forwarded.
// The wiring is in room.ts.
import { runRoom } from '../../src/room.ts';
import { setupDnsRoom } from './room.ts';

void runRoom(setupDnsRoom);
