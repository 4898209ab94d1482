/** Seeded pseudo-random numbers (mulberry32): models, demo data and benchmarks are reproducible. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function createNormal(seed: number): () => number {
  const uniform = createRandom(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export function normalArray(length: number, std: number, seed: number): Float32Array {
  const normal = createNormal(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = normal() * std;
  return out;
}
