// LPIPS v0.1 (AlexNet, lower is better) through one long-lived Python process
// (bench/lib/lpips_server.py on ../shared/metrics/percep_nets.py), so the network loads once
// for many pairs. MRT_PYTHON names the interpreter (default python3).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./lpips_server.py', import.meta.url));

export class Lpips {
  private readonly proc: ChildProcessWithoutNullStreams;
  /** answers arrive in the order the pairs were written */
  private readonly waiting: { ok: (v: number) => void; fail: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: Error | null = null;

  constructor() {
    this.proc = spawn(process.env.MRT_PYTHON || 'python3', [SERVER], { stdio: ['pipe', 'pipe', 'pipe'], env: { PERCEP_THREADS: '1', ...process.env } });
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      const v = Number(line);
      if (line.startsWith('error:') || !Number.isFinite(v)) w.fail(new Error(`lpips: ${line}`));
      else w.ok(v);
    });
    const onExit = (why: string) => {
      this.exited = new Error(`lpips process ${why}: ${this.stderr.trim() || '(no stderr)'}`);
      for (const w of this.waiting.splice(0)) w.fail(this.exited);
    };
    this.proc.on('exit', (code, sig) => onExit(`exited (${sig ?? code})`));
    this.proc.on('error', (e) => onExit(`failed to start (${e.message})`));
  }

  /** LPIPS between two PNG files of the same size. */
  score(refPng: string, distPng: string): Promise<number> {
    if (this.exited) return Promise.reject(this.exited);
    if (/[\t\n]/.test(refPng + distPng)) return Promise.reject(new Error('lpips: a path with a tab or newline'));
    return new Promise((ok, fail) => {
      this.waiting.push({ ok, fail });
      this.proc.stdin.write(`${refPng}\t${distPng}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin.end();
    await done;
  }
}
