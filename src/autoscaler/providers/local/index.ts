export { LocalProvider, defaultCliEntry, type LocalProviderOptions } from './provider.js';
