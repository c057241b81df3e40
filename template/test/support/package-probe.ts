/**
 * Preloaded (`--import`) by the proof that tracing off loads nothing of OpenTelemetry: writes
 * one stderr line for every module the server resolves from node_modules/@opentelemetry/.
 */
import { registerHooks } from 'node:module';

export const LOADED_PREFIX = 'package-probe: loaded ';

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (resolved.url.includes('/node_modules/@opentelemetry/')) process.stderr.write(`${LOADED_PREFIX}${resolved.url}\n`);
    return resolved;
  },
});
