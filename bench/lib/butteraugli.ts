// Butteraugli (lower is better) through Debian's butteraugli_main (libjxl-devtools, installed by
// scripts/build-metrics.sh; MRT_BUTTERAUGLI names another binary): its 3-norm, the aggregate
// it prints beside the max-norm, default viewing conditions (80 nits).
import { execFile } from 'node:child_process';

export function butteraugliBinary(): string {
  return process.env.MRT_BUTTERAUGLI || 'butteraugli_main';
}

/** The 3-norm of butteraugli_main REF DIST (PNG paths). */
export function butteraugli3Norm(refPng: string, distPng: string): Promise<number> {
  return new Promise((ok, fail) =>
    execFile(butteraugliBinary(), [refPng, distPng], (e, so, se) => {
      if (e) return fail(new Error(`butteraugli_main failed (run \`bash scripts/build-metrics.sh\`?): ${se || e.message}`));
      const m = /3-norm:\s*([-+0-9.eE]+)/.exec(so);
      const v = m ? Number(m[1]) : NaN;
      if (!Number.isFinite(v)) return fail(new Error(`butteraugli_main: no 3-norm in ${JSON.stringify(so)}`));
      ok(v);
    }),
  );
}
