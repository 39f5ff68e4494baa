// Entry of the proxy room's thread.
import { runRoom } from '../../src/room.ts';
import { proxyRoom } from './room.ts';

void runRoom(proxyRoom);
