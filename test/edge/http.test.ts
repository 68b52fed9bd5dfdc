// Range, HEAD, conditional requests, caching headers, CORS.
// The tests are in http.shared.ts (run on Node with the filesystem store too).
import { httpTests } from './http.shared.ts';
import { workers } from './helpers.ts';

httpTests(workers);
