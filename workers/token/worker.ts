// Entry of the token room (thread): everything is in room.ts.
import { runRoom } from '../../src/room.ts';
import { setupTokenRoom } from './room.ts';
import type { TokenSettings } from './settings.ts';

void runRoom<TokenSettings>((ctx) => setupTokenRoom(ctx));
