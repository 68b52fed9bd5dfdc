// Prefix selection: ?bytes, ?q, client hints, default; headers that describe the response.
// The tests are in select.shared.ts (run on Node with the filesystem store too).
import { selectTests } from './select.shared.ts';
import { workers } from './helpers.ts';

selectTests(workers);
