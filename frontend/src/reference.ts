import { listCapabilities, listRegions, type Capability, type Region } from "./api/client";

/** Reference holds the capabilities and regions that filters and cards name. */
export interface Reference {
  capabilities: Capability[];
  regions: Region[];
  capabilityName(key: string): string;
  regionName(key: string): string;
}

// humanise is the fallback when a key is not in the reference data (or the
// reference data could not be loaded): "north_west" -> "North west".
function humanise(key: string): string {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function makeReference(capabilities: Capability[], regions: Region[]): Reference {
  const caps = new Map<string, string>(capabilities.map((c) => [c.key, c.name]));
  const regs = new Map<string, string>(regions.map((r) => [r.key, r.name]));
  return {
    capabilities,
    regions,
    capabilityName: (key) => caps.get(key) ?? humanise(key),
    regionName: (key) => regs.get(key) ?? humanise(key),
  };
}

let loading: Promise<Reference> | null = null;

/**
 * loadReference fetches the reference data once per page load. A failure is
 * not cached, so the next view tries again.
 */
export function loadReference(): Promise<Reference> {
  loading ??= Promise.all([listCapabilities(), listRegions()])
    .then(([c, r]) => makeReference(c, r))
    .catch((e: unknown) => {
      loading = null;
      throw e;
    });
  return loading;
}
