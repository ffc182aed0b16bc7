// The vCPUs and GiB of GCE's predefined machine types, computed from the name: a predefined type is
// FAMILY-CLASS-VCPUS, and each family fixes the GiB per vCPU of its classes (cloud.google.com/compute/docs/machine-resource,
// general-purpose and compute-optimized pages). A table rather than a machineTypes.get call: pricing needs no
// Compute API permission and no zone round trip. Types not listed here (custom, shared-core other than e2's, GPU
// families a2/a3/g2, memory-optimized m1-m3) get no shape, so no looked-up price: they need pricePerHour.

/** GiB per vCPU of each class, per family; `sku` is how the family's Core/Ram SKUs are described in the catalogue. */
export const FAMILIES: Record<string, { sku: string; gibPerVcpu: Record<string, number> }> = {
  n1: { sku: 'N1 Predefined Instance', gibPerVcpu: { standard: 3.75, highmem: 6.5, highcpu: 0.9 } },
  n2: { sku: 'N2 Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 1 } },
  n2d: { sku: 'N2D AMD Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 1 } },
  e2: { sku: 'E2 Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 1 } },
  c2: { sku: 'Compute optimized', gibPerVcpu: { standard: 4 } },
  c2d: { sku: 'C2D AMD Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 2 } },
  c3: { sku: 'C3 Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 2 } },
  n4: { sku: 'N4 Instance', gibPerVcpu: { standard: 4, highmem: 8, highcpu: 2 } },
  t2d: { sku: 'T2D AMD Instance', gibPerVcpu: { standard: 4 } },
};

// e2's shared-core types are billed as a fraction of an E2 vCPU.
const SHARED: Record<string, { vcpus: number; gib: number }> = {
  'e2-micro': { vcpus: 0.25, gib: 1 },
  'e2-small': { vcpus: 0.5, gib: 2 },
  'e2-medium': { vcpus: 1, gib: 4 },
};

export interface MachineShape {
  family: string;
  vcpus: number;
  gib: number;
}

export function machineShape(machineType: string): MachineShape | undefined {
  const shared = SHARED[machineType];
  if (shared) return { family: 'e2', ...shared };
  const m = /^([a-z0-9]+)-(standard|highmem|highcpu)-(\d+)$/.exec(machineType);
  const perVcpu = m ? FAMILIES[m[1]!]?.gibPerVcpu[m[2]!] : undefined;
  if (!m || perVcpu === undefined) return undefined;
  const vcpus = Number(m[3]);
  return { family: m[1]!, vcpus, gib: vcpus * perVcpu };
}
