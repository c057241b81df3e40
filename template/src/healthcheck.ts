/**
 * The container's health check (Dockerfile HEALTHCHECK): exits 0 when this instance answers
 * GET /health, 1 otherwise. node itself does it, because the image has no curl.
 */
const TIMEOUT_MS = 3_000;

const port = process.env.PORT?.trim() || '3000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
