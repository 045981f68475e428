/**
 * A stand-in service for the supervisor's tests: reports ready over IPC
 * (as the gateway and the subgraphs do), and on SIGTERM appends
 * `<name> stopping` to STOP_LOG, waits STOP_DELAY_MS (its requests in
 * flight finishing), appends `<name> stopped` and exits 0.
 */
import { appendFileSync } from 'node:fs';

const name = process.argv[2] ?? 'service';
const log = (line: string) => appendFileSync(process.env.STOP_LOG!, `${line}\n`);
const delayMs = Number(process.env.STOP_DELAY_MS ?? 0);

process.on('SIGTERM', () => {
  log(`${name} stopping`);
  setTimeout(() => {
    log(`${name} stopped`);
    process.exit(0);
  }, delayMs);
});
// Kept alive until stopped, like a server.
setInterval(() => {}, 60_000);
process.send?.({ ready: `http://127.0.0.1/${name}` });
