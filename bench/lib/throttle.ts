// Whole-page throttling for browser benchmarks: DevTools network emulation (applies to every
// request of the page, its workers included) and a CPU slowdown.
//
// CPU: DevTools' Emulation.setCPUThrottlingRate slows only a page's main thread (Chromium
// answers "Operation is only supported for pages, not workers" on a worker target), so it
// would leave <mrt-img>'s decode worker and the browser's image decoders at full speed. The
// default mode ('quota') instead runs every renderer process (main thread, workers, raster
// and image-decode threads) in a cgroup v1 CPU controller limited to 1/S of one core
// (Chromium's --renderer-cmd-prefix), so everything a page computes is slowed alike. The
// browser and network processes stay outside: they are not the device under test.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession } from 'playwright-core';

import { NETWORKS, networkPreset, type NetworkPreset } from '../../src/client/demo/networks.ts';

export { NETWORKS, networkPreset, type NetworkPreset };

export async function emulateNetwork(cdp: CDPSession, n: NetworkPreset | null): Promise<void> {
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', n
    ? { offline: false, latency: n.rttMs, downloadThroughput: n.bps / 8, uploadThroughput: n.bps / 8 }
    : { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

export type CpuMode = 'quota' | 'devtools' | 'off';

/** A CPU slowdown for the browser's renderers; `args` go to the browser's launch options. */
export class CpuThrottle {
  readonly args: string[] = [];
  private cgroup: string | null = null;

  constructor(readonly mode: CpuMode, readonly slowdown: number) {
    if (!(slowdown >= 1)) throw new Error(`CPU slowdown must be >= 1, got ${slowdown}`);
    if (mode !== 'quota' || slowdown === 1) return;
    const root = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'].find((p) => existsSync(join(p, 'cpu.cfs_quota_us')));
    if (!root) throw new Error('CPU quota needs a cgroup v1 cpu controller at /sys/fs/cgroup/cpu (use --cpu-mode devtools)');
    const cg = join(root, `mrt-bench-${process.pid}`);
    mkdirSync(cg, { recursive: true });
    const period = Number(readFileSync(join(cg, 'cpu.cfs_period_us'), 'utf8'));
    writeFileSync(join(cg, 'cpu.cfs_quota_us'), String(Math.round(period / slowdown)));
    const wrapper = join(tmpdir(), `mrt-renderer-${process.pid}.sh`);
    writeFileSync(wrapper, `#!/bin/sh\necho $$ > ${join(cg, 'cgroup.procs')}\nexec "$@"\n`);
    chmodSync(wrapper, 0o755);
    this.cgroup = cg;
    this.args.push(`--renderer-cmd-prefix=${wrapper}`);
  }

  describe(): string {
    if (this.mode === 'off' || this.slowdown === 1) return 'no CPU slowdown';
    if (this.mode === 'devtools') return `DevTools CPU throttling ${this.slowdown}x (page main thread only; workers run at full speed)`;
    return `renderer processes limited to 1/${this.slowdown} of one core (cgroup cpu.cfs_quota_us)`;
  }

  /** Applies the DevTools mode to a page; the quota mode needs nothing per page. */
  async applyTo(cdp: CDPSession): Promise<void> {
    if (this.mode === 'devtools') await cdp.send('Emulation.setCPUThrottlingRate', { rate: this.slowdown });
  }

  /** Removes the cgroup (after the browser has exited). */
  close(): void {
    if (!this.cgroup) return;
    try {
      const procs = readFileSync(join(this.cgroup, 'cgroup.procs'), 'utf8').trim();
      if (procs) execFileSync('kill', ['-9', ...procs.split(/\s+/)]);
      rmdirSync(this.cgroup);
    } catch {
      /* already gone */
    }
    this.cgroup = null;
  }
}
