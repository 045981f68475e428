import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../scripts/start/supervisor.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'supervisor-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the supervisor of npm start', () => {
  describe('when it stops every service', () => {
    it('stops a service before those it calls, and those only once it has exited', async () => {
      const stopLog = join(folder, 'stops.log');
      const supervisor = createSupervisor({ root: ROOT, say: () => {} });
      const env = { ...process.env, STOP_LOG: stopLog };
      const spec = (name: string, delayMs: number, calls?: string[]) => ({
        name,
        entry: 'test/support/supervised-service.ts',
        args: [name],
        env: { ...env, STOP_DELAY_MS: String(delayMs) },
        calls,
      });
      await Promise.all([supervisor.start(spec('household', 0)), supervisor.start(spec('credit', 0))]);
      // The gateway takes a while to stop (its requests in flight finish): the subgraphs must still answer meanwhile.
      await supervisor.start(spec('gateway', 400, ['household', 'credit']));
      await supervisor.stopAll();
      const lines = readFileSync(stopLog, 'utf8').trim().split('\n');
      expect(lines.slice(0, 2)).toEqual(['gateway stopping', 'gateway stopped']);
      expect(lines.slice(2).sort()).toEqual(['credit stopped', 'credit stopping', 'household stopped', 'household stopping']);
      // Asked again (a second signal): nothing more to do.
      await supervisor.stopAll();
      expect(readFileSync(stopLog, 'utf8').trim().split('\n')).toHaveLength(6);
    });

    it('waits killAfterMs for a service to stop before it kills it (not 5 s: a gateway may take SHUTDOWN_GRACE_MS)', async () => {
      const stopLog = join(folder, 'slow.log');
      const supervisor = createSupervisor({ root: ROOT, say: () => {}, killAfterMs: 8_000 });
      await supervisor.start({
        name: 'gateway',
        entry: 'test/support/supervised-service.ts',
        args: ['gateway'],
        env: { ...process.env, STOP_LOG: stopLog, STOP_DELAY_MS: '5500' },
      });
      await supervisor.stopAll();
      expect(readFileSync(stopLog, 'utf8').trim().split('\n')).toEqual(['gateway stopping', 'gateway stopped']);
    });
  });
});
