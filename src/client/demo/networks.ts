// Network conditions for the demo's whole-page throttle and the visitor benchmark (one list).
export interface NetworkPreset {
  name: string;
  label: string;
  /** download and upload, bits per second */
  bps: number;
  /** round-trip time added to every request, ms */
  rttMs: number;
}

export const NETWORKS: readonly NetworkPreset[] = [
  { name: '400kbps-400ms', label: 'slow (400 kbit/s, 400 ms RTT)', bps: 400_000, rttMs: 400 },
  { name: '1.6Mbps-150ms', label: '3G (1.6 Mbit/s, 150 ms RTT)', bps: 1_600_000, rttMs: 150 },
  { name: '10Mbps-40ms', label: '4G (10 Mbit/s, 40 ms RTT)', bps: 10_000_000, rttMs: 40 },
];

export function networkPreset(name: string): NetworkPreset {
  const p = NETWORKS.find((n) => n.name === name);
  if (!p) throw new Error(`unknown network ${name}; one of ${NETWORKS.map((n) => n.name).join(', ')}`);
  return p;
}
