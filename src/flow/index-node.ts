/**
 * @module flow/index-node
 * The orchestrator for Node: everything in `./index.ts`, plus the folder store and the folder publisher.
 */
export * from './index.js';
export { dirStore, writeAtomic, type DirStore, type DirStoreOptions } from './store-node.js';
export { dirPublisher, recoverPublished } from './publish-node.js';
