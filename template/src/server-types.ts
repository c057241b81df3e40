/** What src/server.ts needs from the framework wiring in src/app.ts. */
export interface HttpServer {
  /** Where the server listens, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/** One thing GET /ready asks; the first that fails answers 503 with its `unavailable` message. */
export interface ReadinessCheck {
  unavailable: string;
  check(): Promise<void>;
}
