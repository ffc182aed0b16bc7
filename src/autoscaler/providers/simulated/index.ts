export { SimulatedProvider, type SimulatedProviderOptions } from './provider.js';
export { SimCloud, type SimMachine, DEFAULT_BOOT, NO_FAULTS } from './cloud.js';
export { VirtualClock } from './clock.js';
export { Rng } from './rng.js';
