// Entry of the dns room thread: local answers for the internal zones, everything else forwarded.
import { runRoom } from '../../src/room.ts';
import { startDns } from './room.ts';
import type { DnsSettings } from './settings.ts';

void runRoom<DnsSettings>(async ({ init, log, registry }) => startDns(init.settings, registry, log));
