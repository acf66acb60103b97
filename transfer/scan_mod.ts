/**
 * What a sender scans and offers (the walk, a stdin stream's manifest), apart from `mod.ts`, so
 * that `send` shows its offer before loading the rest of transfer/ (the data path, the receiver's
 * planning and publishing, about forty modules).
 * @module
 */
export { scanPaths, type SkippedEntry, type SourceManifest } from "./scan_paths.ts";
export { streamManifest } from "./_stdin_source.ts";
