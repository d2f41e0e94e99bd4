import { once } from 'node:events';
import type { Agent, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test HTTP server listening on a loopback port, and how to stop it. */
export interface LoopbackServer {
  readonly port: number;
  /** Stops listening, destroys every open connection and the upstream `agent`; safe to call more than once. */
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 at a free port; `what` names it in errors (e.g. "archive proxy"). */
export async function listenOnLoopback(server: Server, what: string, agent: Agent): Promise<LoopbackServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${what}: not listening on a TCP port`);
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      });
      return closed;
    },
  };
}
