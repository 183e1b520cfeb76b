/**
 * A TCP relay in front of a server: bytes pass unchanged both ways, and the relay counts
 * connections.
 */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

export interface Relay {
  endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

export async function startRelay(target: { hostname: string; port: number }): Promise<Relay> {
  let connections = 0;
  const relay = (client: Socket) => {
    connections++;
    const upstream = connect(target.port, target.hostname);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  };
  const server = createServer(relay);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => connections,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
