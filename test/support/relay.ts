/**
 * A TCP relay in front of a server: bytes pass unchanged both ways, and the relay counts
 * connections and keeps the start of each client-to-server stream (request heads). With
 * `tls: true` it terminates TLS like nginx or a load balancer would, with a fresh
 * self-signed certificate for 127.0.0.1 (openssl): clients that use some features only
 * over https (the aws cli's aws-chunked trailing checksums) can then reach the proxy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";

export interface Relay {
  endpoint: string;
  /** PEM file of the relay's certificate (tls only), for the client's CA bundle. */
  caFile?: string;
  /** Connections accepted so far. */
  connections(): number;
  /** The first bytes of every closed connection's client-to-server stream. */
  heads: string[];
  stop(): Promise<void>;
}

async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string; certFile: string }> {
  const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  const openssl = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await openssl.exited) !== 0) throw new Error(`openssl failed: ${await new Response(openssl.stderr).text()}`);
  return { key: await Bun.file(keyFile).text(), cert: await Bun.file(certFile).text(), certFile };
}

export async function startRelay(target: { hostname: string; port: number }, opts: { tls?: boolean } = {}): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), "relay-"));
  const heads: string[] = [];
  let connections = 0;
  const relay = (client: Socket) => {
    connections++;
    const upstream = connect(target.port, target.hostname);
    let head = "";
    client.on("data", (chunk: Buffer) => {
      if (head.length < 8192) head += chunk.toString("latin1");
    });
    client.on("close", () => heads.push(head));
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  };
  let server: Server;
  let caFile: string | undefined;
  if (opts.tls) {
    const { key, cert, certFile } = await selfSignedCertificate(dir);
    server = createTlsServer({ key, cert }, relay);
    caFile = certFile;
  } else {
    server = createTcpServer(relay);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    caFile,
    connections: () => connections,
    heads,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
